"""Writes of the demo data: the territory, the logins of DESIGN.md and synthetic residents.

`demo_load` is idempotent (running it twice keeps the counts) and refreshes the dates of
the demo logins, so a demo reloaded on any day looks current.
"""

from __future__ import annotations

import base64
import random
import secrets
from dataclasses import dataclass, field
from datetime import date

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.text import slugify
from django_otp.plugins.otp_totp.models import TOTPDevice

from ville.accounts.models import Helper, Household, HouseholdMember, ServiceRole, User
from ville.core.demo import people
from ville.core.demo.people import Login
from ville.core.demo.synthetic import Place, nearest_schools, plan_household
from ville.territory.models import Address, School, Service

SYNTHETIC_HOUSEHOLDS = 60
SYNTHETIC_SEED = 20260101
# One partner in four also has an account of their own (like Sami), linked to the household.
PARTNER_ACCOUNT_SHARE = 0.25


class DemoDataMissing(Exception):
    """The territory lacks what the demo people need (a street, a service)."""


@dataclass
class DemoSummary:
    """What `load-demo` and `demo` print: the logins and the TOTP secret of the staff ones."""

    logins: list[Login]
    totp_secret: str  # base32, as authenticator apps expect
    totp_uris: dict[str, str]
    citizens_created: int = 0
    citizens_total: int = 0
    households_total: int = 0
    applications_created: int = 0
    warnings: list[str] = field(default_factory=list)


def demo_users() -> Q:
    """The users that belong to the demo (what `--reset` deletes)."""
    return Q(email__in=people.LOGIN_EMAILS) | Q(email__endswith=f"@{people.SYNTHETIC_EMAIL_DOMAIN}")


def demo_citizens() -> QuerySet[User]:
    """The demo residents: demo users who are neither staff, agents nor helpers."""
    return User.objects.filter(
        demo_users(), is_staff=False, service_roles__isnull=True, helper__isnull=True
    )


def demo_is_current(*, today: date | None = None) -> bool:
    """Whether the demo is loaded and its dates were computed for `today` (fast restart)."""
    today = today or timezone.localdate()
    camille = User.objects.filter(email=people.CAMILLE.email).only("birth_date").first()
    if camille is None or camille.birth_date != people.CAMILLE.age.birth_date(today):
        return False
    return User.objects.filter(email__endswith=f"@{people.SYNTHETIC_EMAIL_DOMAIN}").exists()


def demo_delete() -> int:
    """Delete the demo people and their households. Returns the number of users deleted."""
    users = User.objects.filter(demo_users())
    household_ids = {hid for hid in users.values_list("household_id", flat=True) if hid}
    with transaction.atomic():
        count = users.count()
        # Applications protect their citizen: they go first (events, files' rows with them).
        from ville.procedures.models import Application

        Application.objects.filter(citizen__in=users).delete()
        Household.objects.filter(id__in=household_ids).delete()
        users.delete()
    return count


def territory_ensure() -> None:
    """Load the territory and the procedure definitions (both idempotent) through their
    own services: procedures need the territory's services."""
    from ville.procedures.definitions import procedures_load
    from ville.territory.services import territory_load

    territory_load()
    procedures_load()


def demo_load(
    *, today: date | None = None, reset: bool = False, with_territory: bool = True
) -> DemoSummary:
    """Load (or refresh) the demo territory and people. Idempotent."""
    today = today or timezone.localdate()
    if with_territory:
        territory_ensure()
    with transaction.atomic():
        # Read the key before a reset deletes the devices: the secret printed by an earlier
        # run keeps working in the authenticator apps where testers entered it.
        totp_key = _demo_totp_key()
        if reset:
            demo_delete()
        summary = DemoSummary(logins=list(people.LOGINS), totp_secret="", totp_uris={})
        password_hash = make_password(people.DEMO_PASSWORD)
        users = {
            login.email: _login_upsert(login, today=today, password_hash=password_hash)
            for login in people.LOGINS
        }
        _camille_household(users, today=today, warnings=summary.warnings)
        for login in people.LOGINS:
            user = users[login.email]
            if login.service_code:
                service = Service.objects.filter(code=login.service_code).first()
                if service is None:
                    raise DemoDataMissing(
                        f"Service {login.service_code!r} is not in the territory."
                    )
                ServiceRole.objects.get_or_create(user=user, service=service)
            if login.organisation:
                Helper.objects.update_or_create(
                    user=user, defaults={"organisation": login.organisation}
                )
            if login.needs_totp:
                device = _totp_device_ensure(user, key=totp_key)
                summary.totp_uris[login.email] = device.config_url
                summary.totp_secret = base64.b32encode(device.bin_key).decode()
        summary.citizens_created = _synthetic_residents_ensure(
            today=today, password_hash=password_hash
        )
    # After the people: Camille's applications and the agents' queues (procedures.py).
    from ville.core.demo.procedures import demo_applications_ensure

    summary.applications_created = demo_applications_ensure()
    summary.citizens_total = demo_citizens().count()
    summary.households_total = (
        Household.objects.filter(adults__in=User.objects.filter(demo_users())).distinct().count()
    )
    return summary


def demo_summary() -> DemoSummary:
    """The logins and TOTP secret of an already loaded demo, without writing anything."""
    summary = DemoSummary(logins=list(people.LOGINS), totp_secret="", totp_uris={})
    devices = TOTPDevice.objects.filter(
        name=people.TOTP_DEVICE_NAME, user__email__in=people.LOGIN_EMAILS
    ).select_related("user")
    for device in sorted(devices, key=lambda d: people.LOGIN_ORDER[d.user.email]):
        summary.totp_uris[device.user.email] = device.config_url
        summary.totp_secret = base64.b32encode(device.bin_key).decode()
    summary.citizens_total = demo_citizens().count()
    return summary


def _demo_totp_key() -> str:
    existing = (
        TOTPDevice.objects.filter(name=people.TOTP_DEVICE_NAME, user__email__in=people.LOGIN_EMAILS)
        .values_list("key", flat=True)
        .first()
    )
    return existing or secrets.token_hex(20)


def _totp_device_ensure(user: User, *, key: str) -> TOTPDevice:
    device, _ = TOTPDevice.objects.update_or_create(
        user=user, name=people.TOTP_DEVICE_NAME, defaults={"key": key, "confirmed": True}
    )
    return device


def _login_upsert(login: Login, *, today: date, password_hash: str) -> User:
    user = User.objects.filter(email=login.email).first() or User(email=login.email)
    if user.pk is None or not user.has_usable_password():
        user.password = password_hash
    elif not user.check_password(people.DEMO_PASSWORD):
        # A tester changed the password during a demo: reloading gives the demo back.
        user.password = password_hash
    user.first_name = login.first_name
    user.last_name = login.last_name
    user.birth_date = login.age.birth_date(today)
    user.phone = login.phone
    user.preferred_language = login.preferred_language
    user.is_active = True
    user.is_staff = user.is_superuser = login.role == "admin"
    user.email_verified_at = user.email_verified_at or timezone.now()
    user.save()
    return user


def _school(code: str | None, *, warnings: list[str]) -> School | None:
    if code is None:
        return None
    school = School.objects.filter(code=code).first()
    if school is None:
        level = code.split("-", 1)[0]
        school = School.objects.filter(level=level).order_by("code").first()
        warnings.append(f"School {code!r} not found; using {school.code if school else 'none'}.")
    return school


def _camille_household(users: dict[str, User], *, today: date, warnings: list[str]) -> None:
    camille, sami = users[people.CAMILLE.email], users[people.SAMI.email]
    address = (
        Address.objects.filter(street__name=people.CAMILLE_STREET)
        .order_by("number", "suffix")
        .first()
    )
    if address is None:
        raise DemoDataMissing(f"No address on {people.CAMILLE_STREET} in the territory.")
    household = camille.household or Household.objects.create()
    for user in (camille, sami):
        user.household, user.address = household, address
        user.save(update_fields=["household", "address", "updated_at"])
    HouseholdMember.objects.update_or_create(
        household=household,
        relation=HouseholdMember.Relation.PARTNER,
        defaults={
            "first_name": sami.first_name,
            "last_name": sami.last_name,
            "birth_date": sami.birth_date,
            "user": sami,
        },
    )
    for child in people.CAMILLE.children:
        HouseholdMember.objects.update_or_create(
            household=household,
            relation=HouseholdMember.Relation.CHILD,
            first_name=child.first_name,
            defaults={
                "last_name": child.last_name,
                "birth_date": child.age.birth_date(today),
                "school": _school(child.school_code, warnings=warnings),
            },
        )


def _email(first_name: str, last_name: str, taken: set[str]) -> str:
    local = f"{slugify(first_name)}.{slugify(last_name)}"
    email, n = f"{local}@{people.SYNTHETIC_EMAIL_DOMAIN}", 1
    while email in taken:
        n += 1
        email = f"{local}{n}@{people.SYNTHETIC_EMAIL_DOMAIN}"
    taken.add(email)
    return email


def _synthetic_residents_ensure(*, today: date, password_hash: str) -> int:
    """Create the synthetic households that are missing; returns the accounts created."""
    places = address_places()
    if not places:
        raise DemoDataMissing("The address table is empty: load the territory first.")
    schools = nearest_schools(places, school_places())
    # Separate streams: the people stay the same even if the address table changes.
    people_rng = random.Random(SYNTHETIC_SEED)  # noqa: S311 - demo data, not secrets
    place_rng = random.Random(SYNTHETIC_SEED + 1)  # noqa: S311
    existing = set(
        User.objects.filter(email__endswith=f"@{people.SYNTHETIC_EMAIL_DOMAIN}").values_list(
            "email", flat=True
        )
    )
    taken: set[str] = set()
    created = 0
    now = timezone.now()
    for _ in range(SYNTHETIC_HOUSEHOLDS):
        plan = plan_household(people_rng, today)
        place = place_rng.choice(places)
        partner_account = plan.partner is not None and people_rng.random() < PARTNER_ACCOUNT_SHARE
        email = _email(plan.adult.first_name, plan.adult.last_name, taken)
        partner_email = (
            _email(plan.partner.first_name, plan.partner.last_name, taken)
            if plan.partner is not None and partner_account
            else None
        )
        if email in existing:
            continue
        household = Household.objects.create()
        adults = [(plan.adult, email)]
        if plan.partner is not None and partner_email:
            adults.append((plan.partner, partner_email))
        accounts = []
        for adult, adult_email in adults:
            accounts.append(
                User.objects.create(
                    email=adult_email,
                    password=password_hash,
                    first_name=adult.first_name,
                    last_name=adult.last_name,
                    birth_date=adult.birth_date,
                    phone=adult.phone,
                    preferred_language=adult.language,
                    address_id=place.id,
                    household=household,
                    email_verified_at=now,
                )
            )
        created += len(accounts)
        if plan.partner is not None:
            HouseholdMember.objects.create(
                household=household,
                relation=HouseholdMember.Relation.PARTNER,
                first_name=plan.partner.first_name,
                last_name=plan.partner.last_name,
                birth_date=plan.partner.birth_date,
                user=accounts[1] if len(accounts) > 1 else None,
            )
        for kid in plan.children:
            HouseholdMember.objects.create(
                household=household,
                relation=HouseholdMember.Relation.CHILD,
                first_name=kid.first_name,
                last_name=kid.last_name,
                birth_date=kid.birth_date,
                school_id=schools[place.id].get(kid.school_level) if kid.school_level else None,
            )
    return created


def address_places() -> list[Place]:
    """Every address as (id, lon, lat), in a stable order (seeded choices depend on it)."""
    return [Place(*row) for row in Address.objects.order_by("id").values_list("id", "lon", "lat")]


def school_places() -> list[tuple[Place, str]]:
    """Every school with its level and coordinates."""
    rows = School.objects.order_by("code").values_list(
        "id", "level", "address__lon", "address__lat"
    )
    # A school without coordinates is only chosen when no located school has that level.
    return [(Place(sid, lon or 0.0, lat or 0.0), level) for sid, level, lon, lat in rows]
