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


# --- procedures: services, small definitions, applications ---------------------------------


def _translated(fr: str, en: str) -> dict[str, str]:
    return {"fr": fr, "en": en}


def procedure_definition(slug: str = "test-canteen", service: str = "education") -> dict:
    """A small, valid definition: a child beneficiary, two steps (a conditional field, a
    prefilled one, a required file), eligibility on age and on an answer, silence after 60
    days, a grant of 365 days. Tests copy it and change what they need."""
    return {
        "slug": slug,
        "service": service,
        "title": _translated("Cantine scolaire (test)", "School canteen (test)"),
        "beneficiary": {"relation": "child", "label": _translated("Quel enfant ?", "Which child?")},
        "eligibility": [
            {
                "condition": {"path": "beneficiary.age_years", "op": "between", "value": [2, 11]},
                "explanation": _translated("De 2 à 11 ans.", "From 2 to 11 years old."),
            },
            {
                "condition": {"path": "data.diet", "op": "ne", "value": "no_meals"},
                "explanation": _translated("Choisissez des repas.", "Choose some meals."),
            },
        ],
        "steps": [
            {
                "id": "child",
                "title": _translated("L'enfant", "The child"),
                "fields": [
                    {
                        "name": "child_first_name",
                        "type": "text",
                        "label": _translated("Prénom", "First name"),
                        "required": True,
                        "prefill": "beneficiary.first_name",
                        "validation": {"max_length": 150},
                    },
                    {
                        "name": "has_allergy",
                        "type": "yes_no",
                        "label": _translated("Allergie ?", "Allergy?"),
                        "required": True,
                    },
                    {
                        "name": "allergy_details",
                        "type": "long_text",
                        "label": _translated("Détails", "Details"),
                        "when": {"path": "data.has_allergy", "op": "eq", "value": True},
                        "required": True,
                    },
                ],
            },
            {
                "id": "documents",
                "title": _translated("Repas et justificatif", "Meals and proof"),
                "fields": [
                    {
                        "name": "diet",
                        "type": "choice",
                        "label": _translated("Menu", "Menu"),
                        "required": True,
                        "choices": [
                            {"value": "standard", "label": _translated("Standard", "Standard")},
                            {
                                "value": "vegetarian",
                                "label": _translated("Sans viande", "Meatless"),
                            },
                            {"value": "no_meals", "label": _translated("Aucun", "None")},
                        ],
                    },
                    {
                        "name": "proof_of_address",
                        "type": "file",
                        "label": _translated("Justificatif", "Proof of address"),
                        "required": True,
                    },
                ],
            },
        ],
        "workflow": {
            "initial": "submitted",
            "states": {
                "submitted": {"kind": "open", "label": _translated("Reçue", "Received")},
                "in_review": {"kind": "open", "label": _translated("En cours", "In review")},
                "info_requested": {
                    "kind": "waiting_citizen",
                    "label": _translated("Infos demandées", "Information requested"),
                },
                "accepted": {
                    "kind": "final",
                    "outcome": "accepted",
                    "label": _translated("Acceptée", "Accepted"),
                },
                "refused": {
                    "kind": "final",
                    "outcome": "refused",
                    "label": _translated("Refusée", "Refused"),
                },
                "withdrawn": {
                    "kind": "final",
                    "outcome": "withdrawn",
                    "label": _translated("Retirée", "Withdrawn"),
                },
            },
            "transitions": [
                {
                    "name": "start_review",
                    "from": ["submitted"],
                    "to": "in_review",
                    "roles": ["agent"],
                },
                {
                    "name": "request_info",
                    "from": ["submitted", "in_review"],
                    "to": "info_requested",
                    "roles": ["agent"],
                    "comment": "required",
                },
                {
                    "name": "provide_info",
                    "from": ["info_requested"],
                    "to": "in_review",
                    "roles": ["citizen"],
                },
                {"name": "accept", "from": ["in_review"], "to": "accepted", "roles": ["agent"]},
                {
                    "name": "refuse",
                    "from": ["in_review"],
                    "to": "refused",
                    "roles": ["agent"],
                    "comment": "required",
                },
                {
                    "name": "withdraw",
                    "from": ["submitted", "in_review", "info_requested"],
                    "to": "withdrawn",
                    "roles": ["citizen"],
                },
            ],
            "deadlines": {"sla_days": 15, "silence": {"after_days": 60, "outcome": "accepted"}},
            "grant": {"valid_for_days": 365},
        },
    }


class ServiceFactory(DjangoModelFactory):
    class Meta:
        model = "territory.Service"
        django_get_or_create = ("code",)

    code = "education"
    name = factory.LazyAttribute(lambda o: {"fr": o.code.title(), "en": o.code.title()})
    authority = factory.SubFactory(AuthorityFactory)


class ProcedureFactory(DjangoModelFactory):
    """A procedure with one version (from `definition`, checked by the real parser) made
    current. `ProcedureFactory(definition=…)` to use another definition."""

    class Meta:
        model = "procedures.Procedure"
        django_get_or_create = ("slug",)
        skip_postgeneration_save = True

    slug = "test-canteen"
    service = factory.SubFactory(ServiceFactory)

    @factory.post_generation
    def definition(obj: Any, create: bool, extracted: dict | None, **kwargs: Any) -> None:
        if not create or obj.current_version_id:
            return
        from ville.procedures.definitions import definition_checksum, definition_parse
        from ville.procedures.models import ProcedureVersion

        raw = extracted or procedure_definition(slug=obj.slug, service=obj.service.code)
        parsed = definition_parse(raw, source="factory")
        version = ProcedureVersion.objects.create(
            procedure=obj,
            number=obj.versions.count() + 1,
            checksum=definition_checksum(parsed),
            definition=parsed,
        )
        obj.current_version = version
        obj.save(update_fields=["current_version"])


def agent_of(service: Any, **kwargs: Any) -> User:
    """An agent with a role in `service` (a territory.Service)."""
    from ville.accounts.models import ServiceRole

    role = kwargs.pop("role", ServiceRole.Role.AGENT)
    kwargs.setdefault("first_name", "Agent")
    agent = UserFactory(**kwargs)
    ServiceRole.objects.create(user=agent, service=service, role=role)
    return agent
