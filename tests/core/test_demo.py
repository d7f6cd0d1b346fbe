"""`ville load-demo`: the logins of DESIGN.md, Camille's household, idempotence, TOTP."""

from __future__ import annotations

import base64
import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import AddressFactory, AuthorityFactory, SchoolFactory, StreetFactory
from ville.accounts.models import Helper, Household, HouseholdMember, ServiceRole, User
from ville.core.demo import people
from ville.core.demo.people import age_on
from ville.core.demo.services import demo_citizens, demo_is_current, demo_load
from ville.territory.models import School, Service

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
FROZEN = dt.datetime(2026, 3, 15, 10, 0, tzinfo=PARIS)
TODAY = FROZEN.date()
STAFF = {
    "agent.creche@example.org",
    "agent.voirie@example.org",
    "agent.ecoles@example.org",
    "aidant@example.org",
    "admin@example.org",
}


@pytest.fixture
def territory(monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """A small Villeurbanne: Rue du Pérou (numbers 30, 12, 4), another street, schools."""
    monkeypatch.setattr("ville.core.demo.services.territory_ensure", lambda: None)
    commune = AuthorityFactory()
    perou = StreetFactory(authority=commune, name="Rue du Pérou")
    addresses = {
        n: AddressFactory(street=perou, number=n, lat=45.7700 + n / 10_000) for n in (30, 12, 4)
    }
    zola = StreetFactory(authority=commune, name="Cours Émile Zola")
    for n in range(1, 40):
        AddressFactory(street=zola, number=n, lon=4.86 + n / 1000, lat=45.77)
    SchoolFactory(code="maternelle-jean-jaures", level=School.Level.MATERNELLE, authority=commune)
    SchoolFactory(code="elementaire-jean-jaures", level=School.Level.ELEMENTAIRE, authority=commune)
    SchoolFactory(
        code="maternelle-est",
        level=School.Level.MATERNELLE,
        authority=commune,
        address=AddressFactory(street=zola, number=100, lon=4.90, lat=45.77),
    )
    SchoolFactory(
        code="primaire-ouest",
        level=School.Level.PRIMAIRE,
        authority=commune,
        address=AddressFactory(street=zola, number=101, lon=4.86, lat=45.77),
    )
    for code in ("creche", "voirie", "education"):
        Service.objects.create(code=code, name={"fr": code}, authority=commune)
    return {"camille_address": addresses[4]}


def _load(**kwargs: object) -> str:
    out = io.StringIO()
    with time_machine.travel(FROZEN, tick=False):
        call_command("load_demo", stdout=out, **kwargs)
    return out.getvalue()


def _counts() -> dict[str, int]:
    return {
        "users": User.objects.count(),
        "households": Household.objects.count(),
        "members": HouseholdMember.objects.count(),
        "roles": ServiceRole.objects.count(),
        "helpers": Helper.objects.count(),
        "devices": TOTPDevice.objects.count(),
    }


def test_demo_logins_and_camilles_household(territory: dict[str, object]) -> None:
    output = _load()

    logins = set(
        User.objects.filter(email__endswith="@example.org").values_list("email", flat=True)
    )
    assert logins == {
        "camille.martin@example.org",
        "sami.haddad@example.org",
        *STAFF,
    }
    camille = User.objects.get(email="camille.martin@example.org")
    assert (camille.first_name, camille.last_name) == ("Camille", "Martin")
    assert camille.check_password("demo-ville-2026")
    assert camille.email_verified_at is not None
    assert camille.preferred_language == "fr" and camille.phone
    assert age_on(camille.birth_date, TODAY) == 38
    # The first address of Rue du Pérou by number, whatever the insertion order.
    assert camille.address == territory["camille_address"]
    assert camille.address.street.name == "Rue du Pérou"

    members = {m.first_name: m for m in camille.household.members.select_related("school")}
    assert set(members) == {"Sami", "Léo", "Inès", "Jade"}
    sami = members["Sami"]
    assert sami.relation == HouseholdMember.Relation.PARTNER
    assert sami.user.email == "sami.haddad@example.org"
    assert sami.user.household == camille.household and sami.user.address == camille.address
    assert sami.user.check_password("demo-ville-2026")
    leo, ines, jade = members["Léo"], members["Inès"], members["Jade"]
    assert {leo.relation, ines.relation, jade.relation} == {HouseholdMember.Relation.CHILD}
    assert age_on(leo.birth_date, TODAY) == 8 and leo.school.code == "elementaire-jean-jaures"
    assert age_on(ines.birth_date, TODAY) == 5 and ines.school.code == "maternelle-jean-jaures"
    assert jade.birth_date == dt.date(2025, 11, 15) and jade.school is None

    assert "camille.martin@example.org" in output and "demo-ville-2026" in output


def test_staff_roles_and_totp_only_for_staff(territory: dict[str, object]) -> None:
    output = _load()

    creche = User.objects.get(email="agent.creche@example.org")
    voirie = User.objects.get(email="agent.voirie@example.org")
    assert list(creche.service_roles.values_list("service__code", flat=True)) == ["creche"]
    assert list(voirie.service_roles.values_list("service__code", flat=True)) == ["voirie"]
    helper = User.objects.get(email="aidant@example.org")
    assert "Maison de services au public" in helper.helper.organisation
    admin = User.objects.get(email="admin@example.org")
    assert admin.is_staff and admin.is_superuser
    assert not creche.is_staff and not helper.is_superuser

    devices = TOTPDevice.objects.select_related("user")
    assert {d.user.email for d in devices} == STAFF
    assert all(d.confirmed for d in devices)
    assert all(User.objects.get(email=email).requires_mfa for email in STAFF)
    assert not User.objects.get(email="camille.martin@example.org").requires_mfa

    # The printed secret is the one the devices check, and it produces valid codes.
    secret = base64.b32encode(devices[0].bin_key).decode()
    assert secret in output and "otpauth://totp/" in output
    device = devices.get(user=admin)
    assert device.verify_token(f"{totp(device.bin_key):06d}")


def test_synthetic_residents(territory: dict[str, object]) -> None:
    _load()

    synthetic = User.objects.filter(email__endswith=f"@{people.SYNTHETIC_EMAIL_DOMAIN}")
    assert synthetic.count() >= 50
    assert demo_citizens().count() == synthetic.count() + 2
    assert not synthetic.filter(household__isnull=True).exists()
    assert not synthetic.filter(address__isnull=True).exists()
    assert not synthetic.filter(email_verified_at__isnull=True).exists()
    assert synthetic.values("household").distinct().count() == 60
    assert synthetic.values("last_name").distinct().count() >= 30
    assert synthetic.filter(household__members__relation="partner").exists()

    children = HouseholdMember.objects.filter(
        relation="child", household__adults__in=synthetic
    ).select_related("school")
    assert children.exists()
    for child in children.distinct():
        age = age_on(child.birth_date, TODAY)
        if 3 <= age <= 5:
            assert child.school.level in {"maternelle", "primaire"}, child
        elif 6 <= age <= 10:
            assert child.school.level in {"elementaire", "primaire"}, child
        else:
            assert child.school is None, child


def test_load_is_idempotent_and_reset_keeps_totp_secret(territory: dict[str, object]) -> None:
    _load()
    first = _counts()
    key = TOTPDevice.objects.values_list("key", flat=True).first()
    camille_id = User.objects.get(email="camille.martin@example.org").pk

    _load()
    assert _counts() == first
    assert User.objects.get(email="camille.martin@example.org").pk == camille_id

    _load(reset=True)
    assert _counts() == first
    assert User.objects.get(email="camille.martin@example.org").pk != camille_id
    assert set(TOTPDevice.objects.values_list("key", flat=True)) == {key}


def test_reset_leaves_other_people_alone(territory: dict[str, object]) -> None:
    _load()
    other = User.objects.create_user("someone@example.com", "a long password 123")

    _load(reset=True)

    assert User.objects.filter(pk=other.pk).exists()


def test_dates_follow_the_day_of_loading(territory: dict[str, object]) -> None:
    _load()
    with time_machine.travel(FROZEN, tick=False):
        assert demo_is_current()
    later = FROZEN + dt.timedelta(days=200)
    with time_machine.travel(later, tick=False):
        assert not demo_is_current()
        demo_load()
        assert demo_is_current()
    jade = HouseholdMember.objects.get(first_name="Jade", last_name="Martin")
    assert later.date() == dt.date(2026, 10, 1)
    assert jade.birth_date == dt.date(2026, 6, 1)
    leo = HouseholdMember.objects.get(first_name="Léo", last_name="Martin")
    assert age_on(leo.birth_date, later.date()) == 8


def test_missing_rue_du_perou_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from django.core.management.base import CommandError

    monkeypatch.setattr("ville.core.demo.services.territory_ensure", lambda: None)
    with pytest.raises(CommandError, match="Rue du Pérou"):
        call_command("load_demo", stdout=io.StringIO())


def test_reference_data_includes_every_procedure_definition() -> None:
    from ville.core.demo.services import territory_ensure
    from ville.procedures.models import Procedure
    from ville.territory.models import Address

    territory_ensure()
    territory_ensure()  # idempotent

    assert Address.objects.filter(street__name="Rue du Pérou").exists()
    slugs = set(Procedure.objects.values_list("slug", flat=True))
    assert {"canteen-registration", "creche-application", "residential-parking-permit"} <= slugs
    assert all(p.current_version is not None for p in Procedure.objects.all())
    assert all(p.versions.count() == 1 for p in Procedure.objects.all())
