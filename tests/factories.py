"""Model factories shared by the whole suite (each app adds its own at the end)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from ville.accounts.models import Household, HouseholdMember, User
from ville.territory.models import Address, Authority, School, Street

DEFAULT_PASSWORD = "demo-ville-2026"


class AuthorityFactory(DjangoModelFactory):
    class Meta:
        model = Authority
        django_get_or_create = ("code",)

    code = "villeurbanne"
    name = "Villeurbanne"
    kind = Authority.Kind.COMMUNE
    insee_code = "69266"


class StreetFactory(DjangoModelFactory):
    class Meta:
        model = Street

    authority = factory.SubFactory(AuthorityFactory)
    name = factory.Sequence(lambda n: f"Rue de test {n}")
    search_name = factory.LazyAttribute(lambda o: o.name.lower())
    postcode = "69100"


class AddressFactory(DjangoModelFactory):
    class Meta:
        model = Address

    street = factory.SubFactory(StreetFactory)
    ban_id = factory.Sequence(lambda n: f"69266_test_{n:05d}")
    number = factory.Sequence(lambda n: n + 1)
    postcode = "69100"
    lon = 4.88
    lat = 45.77
    label = factory.LazyAttribute(lambda o: f"{o.number} {o.street.name} 69100 Villeurbanne")
    search_label = factory.LazyAttribute(lambda o: o.label.lower())


class SchoolFactory(DjangoModelFactory):
    class Meta:
        model = School

    code = factory.Sequence(lambda n: f"school-{n}")
    name = factory.Sequence(lambda n: f"École de test {n}")
    level = School.Level.ELEMENTAIRE
    authority = factory.SubFactory(AuthorityFactory)


class HouseholdFactory(DjangoModelFactory):
    class Meta:
        model = Household


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"citizen{n}@example.org")
    first_name = "Camille"
    last_name = factory.Sequence(lambda n: f"Test{n}")
    # Confirmed address: an unconfirmed account cannot log in (pass email_verified_at=None).
    email_verified_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def password(obj: User, create: bool, extracted: str | None, **kwargs: Any) -> None:
        obj.set_password(extracted or DEFAULT_PASSWORD)
        if create:
            obj.save(update_fields=["password"])


class HouseholdMemberFactory(DjangoModelFactory):
    class Meta:
        model = HouseholdMember

    household = factory.SubFactory(HouseholdFactory)
    relation = HouseholdMember.Relation.CHILD
    first_name = factory.Sequence(lambda n: f"Child{n}")
    last_name = "Test"
    birth_date = dt.date(2018, 5, 4)
    school = factory.SubFactory(SchoolFactory)


# --- accounts: agents (auth) --------------------------------------------------------------


class AgentFactory(UserFactory):
    """An agent with a role in a service (crèches by default): must pass TOTP."""

    email = factory.Sequence(lambda n: f"agent{n}@example.org")
    first_name = "Agent"

    @factory.post_generation
    def service_role(obj: User, create: bool, extracted: str | None, **kwargs: Any) -> None:
        if not create:
            return
        from ville.accounts.models import ServiceRole
        from ville.territory.models import Service

        # The same commune as AuthorityFactory, so both can be used in one test.
        authority = AuthorityFactory()
        service, _ = Service.objects.get_or_create(
            code=extracted or "creches",
            defaults={"name": {"fr": "Crèches", "en": "Nurseries"}, "authority": authority},
        )
        ServiceRole.objects.create(user=obj, service=service)
