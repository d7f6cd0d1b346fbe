"""Permission matrix of the profile, household, dashboard, agent and `/api/v1/me` views.

Every case runs as anonymous, citizen A, citizen B, a helper, an agent and an admin. A
case names the request and, per role, the expected outcome; after every request we check
that A's profile and household changed only when A was the one writing. To cover another
view, add a row to CASES (and a role to ROLES if needed).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import AuthorityFactory, HouseholdMemberFactory, UserFactory
from ville.accounts.models import Helper, Household, HouseholdMember, ServiceRole, User
from ville.audit.models import AuditEvent
from ville.territory.models import Service

pytestmark = pytest.mark.django_db

TODAY = dt.datetime(2026, 3, 15, 10, 0, tzinfo=dt.UTC)
ROLES = ["anonymous", "citizen_a", "citizen_b", "helper", "agent", "admin"]
STAFF = {"agent", "admin"}

# Outcomes. "login": pages redirect to the login page, the API answers 401.
LOGIN = "login"
NOT_FOUND = "404"
# "ok": the request succeeds for the role's own data (or for A's, when A asks).
OK = "ok"
# "reads_a": succeeds and shows A's data (agents through the audited record view).
READS_A = "reads_a"

# Unique strings that only A's data contains.
A_LAST_NAME = "Aubertin"
A_CHILD = "Zoéline"


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    path: Callable[[dict[str, Any]], str]
    expect: dict[str, str]
    body: dict[str, Any] | None = None
    api: bool = False
    ok_status: tuple[int, ...] = (200, 302)
    audited: str | None = field(default=None)


@dataclass(frozen=True)
class Page:
    """The path of a page of `accounts`, with ids taken from the world fixture."""

    url_name: str
    args_of: tuple[str, ...] = ()

    def __init__(self, url_name: str, *args_of: str) -> None:
        object.__setattr__(self, "url_name", url_name)
        object.__setattr__(self, "args_of", args_of)

    def __call__(self, world: dict[str, Any]) -> str:
        with translation.override("fr"):
            args = [world[key].pk for key in self.args_of]
            return reverse(f"accounts:{self.url_name}", args=args)


def fixed(path: str) -> Callable[[dict[str, Any]], str]:
    return lambda world: path


def api_member(world: dict[str, Any]) -> str:
    return f"/api/v1/me/household/{world['a_child'].pk}"


def everyone(outcome: str, **overrides: str) -> dict[str, str]:
    """`outcome` for every logged-in role, `login` for anonymous, then the exceptions."""
    return {"anonymous": LOGIN, **{role: outcome for role in ROLES[1:]}, **overrides}


def only_a(**overrides: str) -> dict[str, str]:
    return everyone(NOT_FOUND, **{"citizen_a": OK, **overrides})


CHILD = {"first_name": "Nouvel", "last_name": "Enfant", "birth_date": "2019-01-01"}
MEMBER_FORM = {**CHILD, "school": ""}

CASES = [
    # Pages of one's own profile and household: everyone logged in sees only their own.
    Case("profile GET", "GET", Page("profile"), everyone(OK, citizen_a=READS_A)),
    Case(
        "profile POST",
        "POST",
        Page("profile"),
        everyone(OK),
        body={"first_name": "Nouveau", "last_name": "Nom", "preferred_language": "fr"},
    ),
    Case("household GET", "GET", Page("household"), everyone(OK, citizen_a=READS_A)),
    Case(
        "member add POST",
        "POST",
        Page("member_add"),
        everyone(OK),
        body={"relation": "child", **MEMBER_FORM},
    ),
    Case("member undo POST", "POST", Page("member_undo"), everyone(OK)),
    # A's member, addressed by id: only A.
    Case("member edit GET", "GET", Page("member_edit", "a_child"), only_a(citizen_a=READS_A)),
    Case("member edit POST", "POST", Page("member_edit", "a_child"), only_a(), body=MEMBER_FORM),
    Case("member remove GET", "GET", Page("member_remove", "a_child"), only_a(citizen_a=READS_A)),
    Case("member remove POST", "POST", Page("member_remove", "a_child"), only_a()),
    # The agent view of A's record: staff with a reason, audited; nobody else.
    Case(
        "agent record GET",
        "GET",
        Page("agent_citizen", "a"),
        everyone(NOT_FOUND, agent=OK, admin=OK),
    ),
    Case(
        "agent record POST",
        "POST",
        Page("agent_citizen", "a"),
        everyone(NOT_FOUND, agent=READS_A, admin=READS_A),
        body={"reason": "Dossier crèche 2026-0042"},
        audited="citizen_record_viewed",
    ),
    # The personal space shows each person their own household only.
    Case("dashboard GET", "GET", fixed("/fr/espace/"), everyone(OK, citizen_a=READS_A)),
    Case(
        "api dashboard GET",
        "GET",
        fixed("/api/v1/me/dashboard"),
        everyone(OK, citizen_a=READS_A),
        api=True,
    ),
    # The API.
    Case("api me GET", "GET", fixed("/api/v1/me"), everyone(OK, citizen_a=READS_A), api=True),
    Case(
        "api me PATCH",
        "PATCH",
        fixed("/api/v1/me"),
        everyone(OK),
        body={"first_name": "Nouveau"},
        api=True,
    ),
    Case(
        "api household POST",
        "POST",
        fixed("/api/v1/me/household"),
        everyone(OK),
        body={"relation": "child", **CHILD},
        api=True,
        ok_status=(201,),
    ),
    Case(
        "api member PATCH",
        "PATCH",
        api_member,
        only_a(),
        body={"first_name": "Autre"},
        api=True,
    ),
    Case("api member DELETE", "DELETE", api_member, only_a(), api=True, ok_status=(204,)),
]


@pytest.fixture(autouse=True)
def frozen_today() -> Iterator[None]:
    with time_machine.travel(TODAY, tick=False):
        yield


def _citizen(last_name: str, child: str) -> tuple[User, HouseholdMember]:
    household = Household.objects.create()
    user = UserFactory(
        first_name="Camille",
        last_name=last_name,
        birth_date=dt.date(1985, 1, 1),
        household=household,
    )
    member = HouseholdMemberFactory(
        household=household, first_name=child, last_name=last_name, birth_date=dt.date(2016, 5, 1)
    )
    return user, member


def _verified(user: User, client: Client) -> None:
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


@pytest.fixture
def world() -> dict[str, Any]:
    a, a_child = _citizen(A_LAST_NAME, A_CHILD)
    b, b_child = _citizen("Bertrand", "Basile")
    agent = UserFactory(first_name="Agent", last_name="Voirie")
    service = Service.objects.create(
        code="voirie", name={"fr": "Voirie"}, authority=AuthorityFactory()
    )
    ServiceRole.objects.create(user=agent, service=service)
    helper = UserFactory(first_name="Aidant", last_name="Numérique")
    Helper.objects.create(user=helper, organisation="Maison des services")
    admin = UserFactory(first_name="Admin", last_name="Ville", is_staff=True, is_superuser=True)
    return {
        "a": a,
        "a_child": a_child,
        "citizen_a": a,
        "citizen_b": b,
        "b_child": b_child,
        "agent": agent,
        "helper": helper,
        "admin": admin,
    }


@pytest.fixture(params=ROLES)
def role(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def as_role(client: Client, world: dict[str, Any], role: str) -> Client:
    if role == "anonymous":
        return client
    user = world[role]
    if user.requires_mfa:
        _verified(user, client)
    else:
        client.force_login(user)
    return client


def _snapshot_of_a(world: dict[str, Any]) -> tuple[Any, ...]:
    a = User.objects.get(pk=world["a"].pk)
    members = tuple(
        HouseholdMember.objects.filter(household_id=a.household_id)
        .order_by("pk")
        .values_list("pk", "first_name", "last_name", "birth_date", "school_id")
    )
    return (a.first_name, a.last_name, a.birth_date, a.phone, a.address_id, members)


def _send(client: Client, case: Case, world: dict[str, Any]) -> Any:
    path = case.path(world)
    if case.api:
        body = json.dumps(case.body) if case.body is not None else ""
        return client.generic(case.method, path, body, content_type="application/json")
    if case.method == "POST":
        return client.post(path, case.body or {})
    return client.get(path)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_permission_matrix(as_role: Client, role: str, case: Case, world: dict[str, Any]) -> None:
    before = _snapshot_of_a(world)
    expected = case.expect[role]

    response = _send(as_role, case, world)

    body = response.content.decode()
    if expected == LOGIN:
        if case.api:
            assert response.status_code == 401
            assert response.json()["error"]["code"] == "not_authenticated"
        else:
            assert response.status_code == 302
            assert response["Location"].startswith(reverse("accounts:login"))
    elif expected == NOT_FOUND:
        assert response.status_code == 404
        if case.api:
            assert response.json()["error"]["code"] == "not_found"
    else:
        assert response.status_code in case.ok_status, body[:2000]
        if response.status_code == 302:
            # A success redirects to a page of the app, never to the login or MFA pages.
            assert "/connexion/" not in response["Location"]
            assert "/securite/" not in response["Location"]

    shows_a = A_LAST_NAME in body or A_CHILD in body
    if expected == READS_A:
        assert shows_a
    elif role != "citizen_a":
        assert not shows_a, f"{role} saw A's data in {case.name}"

    if role != "citizen_a":
        assert _snapshot_of_a(world) == before, f"{role} changed A's data through {case.name}"

    if case.audited:
        events = AuditEvent.objects.filter(action=case.audited, subject_id=world["a"].pk)
        assert events.count() == (1 if expected == READS_A else 0)
        if expected == READS_A:
            assert events.get().actor_id == world[role].pk


def test_the_matrix_covers_every_role_and_every_profile_url() -> None:
    for case in CASES:
        assert set(case.expect) == set(ROLES), case.name
    from ville.accounts import urls

    mine = {
        "profile",
        "household",
        "member_add",
        "member_edit",
        "member_remove",
        "member_undo",
        "agent_citizen",
    }
    declared = {pattern.name for pattern in urls.urlpatterns}
    assert mine <= declared
    covered = {case.path.url_name for case in CASES if isinstance(case.path, Page)}
    assert mine <= covered
