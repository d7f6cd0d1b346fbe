"""Moving a submitted application through its workflow: transitions by the citizen or an
agent, withdrawal, assignment, and decisions taken by silence once a deadline passes."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.db import connection, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from ville.accounts.models import ServiceRole
from ville.audit import events as audit
from ville.core.errors import NotFound, ValidationFailed
from ville.procedures import workflow as wf
from ville.procedures.definitions import definition_of
from ville.procedures.errors import ApplicationClosed, Conflict
from ville.procedures.models import DRAFT, Application
from ville.procedures.selectors import as_uuid
from ville.procedures.services.common import (
    EVENT_STATE_CHANGED,
    MAX_COMMENT_LENGTH,
    Kind,
    Role,
    event_add,
    locked_update,
    webhook_payload,
)
from ville.procedures.webhooks import outbox_enqueue

logger = logging.getLogger(__name__)

SILENCE_TRANSITION = "silence"
SILENCE_BATCH = 200


def _application(application_id: UUID | str) -> Application:
    application = (
        Application.objects.select_related("procedure", "version", "service", "citizen")
        .filter(pk=as_uuid(application_id))
        .first()
    )
    if application is None:
        raise NotFound()
    return application


def _workflow_roles(*, actor: Any, application: Application) -> set[str]:
    """The workflow roles `actor` holds on a submitted application: `citizen` for the
    applicant; `agent` (and `supervisor`) for a role in its service; none for anyone else.
    The applicant is only ever the citizen, even if they work for the service."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return set()
    if actor.pk == application.citizen_id:
        return {wf.CITIZEN}
    if application.state == DRAFT:
        return set()
    held = ServiceRole.objects.filter(user_id=actor.pk, service_id=application.service_id)
    roles: set[str] = set()
    for role in held.values_list("role", flat=True):
        roles.add(wf.AGENT)
        if role == ServiceRole.Role.SUPERVISOR:
            roles.add(wf.SUPERVISOR)
    return roles


def _deadline_changes(
    workflow: wf.Workflow, *, from_state: str, to_state: str, now: datetime
) -> dict[str, Any]:
    """How the clocks move with a state change. While the service waits for the citizen,
    neither the service-level target nor "silence vaut accord" runs; both start again, in
    full, once the citizen answers (the deadline runs from the complete file)."""
    if wf.state_is_final(workflow, to_state) or wf.state_is_waiting_citizen(workflow, to_state):
        return {"sla_due_at": None, "silence_due_at": None}
    if wf.state_is_waiting_citizen(workflow, from_state):
        sla_due_at, silence_due_at, outcome = wf.deadlines_for(workflow, now)
        if outcome and not wf.state_is_final(workflow, outcome):
            silence_due_at = None
        return {"sla_due_at": sla_due_at, "silence_due_at": silence_due_at}
    return {}


def _decision_changes(workflow: wf.Workflow, *, to_state: str, now: datetime) -> dict[str, Any]:
    if not wf.state_is_final(workflow, to_state):
        return {}
    changes: dict[str, Any] = {"decided_at": now}
    days = wf.grant_valid_for_days(workflow)
    if days and wf.outcome_is_granting(wf.state_outcome(workflow, to_state)):
        changes["valid_until"] = timezone.localdate(now) + timedelta(days=days)
    return changes


def application_transition(
    *,
    actor: Any,
    application_id: UUID | str,
    transition: str,
    comment: str = "",
    expected_lock_version: int,
    request: HttpRequest | None = None,
) -> Application:
    """Make the move `transition` if the workflow lets the actor make it from the current
    state. `expected_lock_version` is the version the actor saw: if someone acted since,
    Conflict, and nothing changes. A final state records the decision date and, for a
    granted permit, its end of validity."""
    application = _application(application_id)
    roles = _workflow_roles(actor=actor, application=application)
    if not roles:
        raise NotFound()
    if application.state == DRAFT:
        raise ApplicationClosed(_("This application has not been submitted yet."))
    if application.lock_version != expected_lock_version:
        raise Conflict()
    workflow = definition_of(application.version).workflow
    from_state = application.state
    move = wf.transition_get(workflow, name=transition, state=from_state, role=roles)
    comment = (comment or "").strip()
    if wf.comment_required(move) and not comment:
        raise ValidationFailed(fields={"comment": [_("Please explain this decision.")]})
    if len(comment) > MAX_COMMENT_LENGTH:
        raise ValidationFailed(
            fields={
                "comment": [
                    _("Please keep the comment under %(max)d characters.")
                    % {"max": MAX_COMMENT_LENGTH}
                ]
            }
        )
    to_state = str(move["to"])
    role = Role.CITIZEN if wf.CITIZEN in roles else Role.AGENT
    now = timezone.now()
    with transaction.atomic():
        locked_update(
            application,
            expected_lock_version=expected_lock_version,
            state=to_state,
            **_deadline_changes(workflow, from_state=from_state, to_state=to_state, now=now),
            **_decision_changes(workflow, to_state=to_state, now=now),
        )
        event_add(
            application,
            kind=wf.event_kind_for(workflow, transition=move, from_state=from_state),
            actor=actor,
            role=role,
            from_state=from_state,
            to_state=to_state,
            comment=comment,
        )
        outbox_enqueue(
            application=application,
            event_type=EVENT_STATE_CHANGED,
            payload=webhook_payload(application, from_state=from_state, transition=transition),
        )
        audit.record_application_transition(
            request=request,
            actor=actor,
            application=application,
            transition=transition,
            from_state=from_state,
            to_state=to_state,
        )
    return application


def application_withdraw(
    *,
    actor: Any,
    application_id: UUID | str,
    expected_lock_version: int,
    comment: str = "",
    request: HttpRequest | None = None,
) -> Application:
    """The applicant withdraws their application (the workflow's `withdraw` transition)."""
    application = _application(application_id)
    if _workflow_roles(actor=actor, application=application) != {wf.CITIZEN}:
        raise NotFound()
    return application_transition(
        actor=actor,
        application_id=application.pk,
        transition="withdraw",
        comment=comment,
        expected_lock_version=expected_lock_version,
        request=request,
    )


def application_assign(
    *,
    actor: Any,
    application_id: UUID | str,
    assignee_id: UUID | str | None,
    expected_lock_version: int,
    request: HttpRequest | None = None,
) -> Application:
    """Give the application to an agent of its service (or to nobody, with None)."""
    application = _application(application_id)
    if wf.AGENT not in _workflow_roles(actor=actor, application=application):
        raise NotFound()
    assignee = None
    if assignee_id not in (None, ""):
        role = (
            ServiceRole.objects.select_related("user")
            .filter(service_id=application.service_id, user_id=as_uuid(assignee_id))  # type: ignore[arg-type]
            .first()
        )
        if role is None or not role.user.is_active:
            raise ValidationFailed(
                fields={"assignee": [_("Choose an agent of the service in charge.")]}
            )
        assignee = role.user
    if application.lock_version != expected_lock_version:
        raise Conflict()
    with transaction.atomic():
        locked_update(
            application, expected_lock_version=expected_lock_version, assigned_to=assignee
        )
        event_add(
            application,
            kind=Kind.ASSIGNED,
            actor=actor,
            role=Role.AGENT,
            from_state=application.state,
            to_state=application.state,
            comment=str(assignee) if assignee else "",
            visible_to_citizen=False,
        )
        audit.record_application_assigned(
            request=request, actor=actor, application=application, assignee=assignee
        )
    return application


def _silence_one(application_id: UUID, *, now: datetime) -> bool:
    """Decide one application by silence, if it is still due; False if another worker got it
    first or it changed meanwhile."""
    with transaction.atomic():
        candidates = Application.objects.select_related("procedure", "version", "service").filter(
            pk=application_id,
            silence_due_at__lte=now,
            decided_at__isnull=True,
            submitted_at__isnull=False,
        )
        if connection.features.has_select_for_update_skip_locked:
            # Another worker holds it: that worker decides it.
            candidates = candidates.select_for_update(skip_locked=True, of=("self",))
        application = candidates.exclude(state=DRAFT).first()
        if application is None:
            return False
        workflow = definition_of(application.version).workflow
        _sla, _silence, outcome = wf.deadlines_for(workflow, application.submitted_at or now)
        from_state = application.state
        if (
            not outcome
            or not wf.state_is_final(workflow, outcome)
            or wf.state_kind(workflow, from_state) != wf.OPEN
        ):
            # The definition changed its mind or the state does not let silence decide:
            # stop looking at this application.
            locked_update(
                application, expected_lock_version=application.lock_version, silence_due_at=None
            )
            return False
        locked_update(
            application,
            expected_lock_version=application.lock_version,
            state=outcome,
            sla_due_at=None,
            silence_due_at=None,
            **_decision_changes(workflow, to_state=outcome, now=now),
        )
        event_add(
            application,
            kind=Kind.AUTO_DECIDED,
            actor=None,
            role=Role.SYSTEM,
            from_state=from_state,
            to_state=outcome,
        )
        outbox_enqueue(
            application=application,
            event_type=EVENT_STATE_CHANGED,
            payload=webhook_payload(
                application, from_state=from_state, transition=SILENCE_TRANSITION
            ),
        )
        audit.record_application_auto_decided(
            application=application, from_state=from_state, to_state=outcome
        )
    return True


def applications_apply_silence(*, now: datetime | None = None) -> int:
    """Decide, by the outcome its workflow gives to silence, every submitted application whose
    "silence vaut accord / refus" date has passed without a decision. Returns how many.

    Idempotent, and safe with several workers: each application is decided in its own short
    transaction, under a row lock that other workers skip (PostgreSQL).
    """
    now = now or timezone.now()
    decided = 0
    due = Application.objects.filter(
        silence_due_at__lte=now, decided_at__isnull=True, submitted_at__isnull=False
    ).order_by("silence_due_at", "id")
    after: tuple[datetime | None, UUID] | None = None
    while True:
        # Keyset pages: decided rows leave the set; skipped or failed ones are passed over.
        page = due
        if after is not None:
            page = page.filter(
                Q(silence_due_at__gt=after[0]) | Q(silence_due_at=after[0], id__gt=after[1])
            )
        batch = list(page.values_list("silence_due_at", "id")[:SILENCE_BATCH])
        if not batch:
            return decided
        for _due_at, application_id in batch:
            try:
                if _silence_one(application_id, now=now):
                    decided += 1
            except Conflict:
                # Someone acted on it at the same moment: their change stands.
                pass
            except Exception:
                logger.exception("silence decision failed for application %s", application_id)
        after = batch[-1]
