"""The small world the procedures tests share: two services with a procedure each, two
families, agents, a helper; and helpers to file and move applications through the services."""

from __future__ import annotations

import datetime as dt
import uuid
from types import SimpleNamespace
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import (
    HouseholdFactory,
    HouseholdMemberFactory,
    ProcedureFactory,
    ServiceFactory,
    UserFactory,
    agent_of,
    procedure_definition,
)
from tests.procedures.test_uploads import tiny_pdf
from ville.accounts.models import Helper, ServiceRole
from ville.audit.models import AuditEvent
from ville.procedures import services
from ville.procedures.models import Application

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def make_world() -> SimpleNamespace:
    """Two services with a procedure each, two families, agents of each service, a helper."""
    education = ServiceFactory(code="education")
    roads = ServiceFactory(code="roads")
    procedure = ProcedureFactory(slug="test-canteen", service=education)
    roads_procedure = ProcedureFactory(
        slug="test-roads",
        service=roads,
        definition={**procedure_definition(slug="test-roads", service="roads")},
    )
    household = HouseholdFactory()
    citizen = UserFactory(first_name="Camille", last_name="Martin", household=household)
    child = HouseholdMemberFactory(
        household=household, first_name="Léo", last_name="Martin", birth_date=dt.date(2018, 5, 4)
    )
    baby = HouseholdMemberFactory(
        household=household, first_name="Jade", last_name="Martin", birth_date=dt.date(2025, 11, 2)
    )
    other_household = HouseholdFactory()
    other = UserFactory(first_name="Bruno", last_name="Durand", household=other_household)
    other_child = HouseholdMemberFactory(
        household=other_household, first_name="Zoé", last_name="Durand"
    )
    agent = agent_of(education, first_name="Agnès", last_name="Educ")
    colleague = agent_of(education, first_name="Paul", last_name="Educ")
    supervisor = agent_of(
        education, first_name="Sara", last_name="Sup", role=ServiceRole.Role.SUPERVISOR
    )
    roads_agent = agent_of(roads, first_name="Rémi", last_name="Roads")
    helper_user = UserFactory(first_name="Aidant")
    Helper.objects.create(user=helper_user, organisation="Maison France Services")
    return SimpleNamespace(
        education=education,
        roads=roads,
        procedure=procedure,
        roads_procedure=roads_procedure,
        citizen=citizen,
        child=child,
        baby=baby,
        other=other,
        other_child=other_child,
        agent=agent,
        colleague=colleague,
        supervisor=supervisor,
        roads_agent=roads_agent,
        helper=helper_user,
    )


def pdf(name: str = "proof.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, tiny_pdf(), content_type="application/pdf")


def draft_filled(world: SimpleNamespace, *, citizen: Any = None, child: Any = None) -> Application:
    citizen = citizen or world.citizen
    child = child or (world.child if citizen == world.citizen else world.other_child)
    application = services.application_start(
        actor=citizen, procedure_slug="test-canteen", beneficiary_id=child.pk
    )
    services.application_save_step(
        actor=citizen,
        application_id=application.pk,
        step_id="child",
        data={"child_first_name": child.first_name, "has_allergy": False},
        lang="en",
    )
    return services.application_save_step(
        actor=citizen,
        application_id=application.pk,
        step_id="documents",
        data={"diet": "vegetarian"},
        files={"proof_of_address": pdf()},
        lang="en",
    )


def submitted_application(
    world: SimpleNamespace | None = None, *, citizen: Any = None, **_: Any
) -> Application:
    world = world or make_world_once()
    application = draft_filled(world, citizen=citizen)
    return services.application_submit(
        actor=citizen or world.citizen,
        application_id=application.pk,
        submission_key=uuid.uuid4(),
        lang="en",
    )


_WORLD: dict[str, SimpleNamespace] = {}


def make_world_once() -> SimpleNamespace:
    """For helpers called outside a fixture: one world per test database state."""
    from ville.territory.models import Service

    found = _WORLD.get("world")
    if found is None or not Service.objects.filter(pk=found.education.pk).exists():
        found = _WORLD["world"] = make_world()
    return found


def audit_actions(application: Application) -> list[str]:
    return list(
        AuditEvent.objects.filter(target_id=str(application.pk))
        .order_by("seq")
        .values_list("action", flat=True)
    )


def move(application: Application, actor: Any, transition: str, comment: str = "") -> Application:
    application.refresh_from_db()
    return services.application_transition(
        actor=actor,
        application_id=application.pk,
        transition=transition,
        comment=comment,
        expected_lock_version=application.lock_version,
    )
