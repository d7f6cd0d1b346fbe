"""The transition table of a procedure's workflow, read from its definition (pure, no DB).

Services ask here which moves an actor may make; they alone apply them.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from typing import Any

from django.utils.translation import gettext as _

from ville.procedures.errors import TransitionNotAllowed

# Kinds of state a definition may declare.
OPEN = "open"
WAITING_CITIZEN = "waiting_citizen"
FINAL = "final"

# Roles that appear in `transitions[].roles`. A supervisor may also do what an agent does.
CITIZEN = "citizen"
AGENT = "agent"
SUPERVISOR = "supervisor"
SYSTEM = "system"

# Outcomes that grant something (a permit, a place): they may carry a validity period.
GRANTING_OUTCOMES = frozenset({"accepted"})
WITHDRAWN_OUTCOME = "withdrawn"

Workflow = Mapping[str, Any]
Transition = Mapping[str, Any]


def state_info(workflow: Workflow, state: str) -> Mapping[str, Any]:
    """The declaration of `state` (empty for states the workflow does not know, e.g. draft)."""
    info = (workflow.get("states") or {}).get(state)
    return info if isinstance(info, Mapping) else {}


def state_kind(workflow: Workflow, state: str) -> str:
    return str(state_info(workflow, state).get("kind", ""))


def state_is_final(workflow: Workflow, state: str) -> bool:
    return state_kind(workflow, state) == FINAL


def state_is_waiting_citizen(workflow: Workflow, state: str) -> bool:
    return state_kind(workflow, state) == WAITING_CITIZEN


def state_outcome(workflow: Workflow, state: str) -> str | None:
    """`accepted`, `refused`, `withdrawn`… for a final state; None otherwise."""
    info = state_info(workflow, state)
    if info.get("kind") != FINAL:
        return None
    return str(info.get("outcome") or state)


def outcome_is_granting(outcome: str | None) -> bool:
    return outcome in GRANTING_OUTCOMES


def initial_state(workflow: Workflow) -> str:
    return str(workflow["initial"])


def grant_valid_for_days(workflow: Workflow) -> int | None:
    days = (workflow.get("grant") or {}).get("valid_for_days")
    return int(days) if days else None


def _roles(role: str | Collection[str]) -> set[str]:
    return {role} if isinstance(role, str) else set(role)


def transitions_for(
    workflow: Workflow, *, state: str, role: str | Collection[str]
) -> list[Transition]:
    """The transitions `role` (or any of several roles) may make from `state`, in the order
    the definition lists them."""
    roles = _roles(role)
    return [
        transition
        for transition in workflow.get("transitions") or []
        if state in (transition.get("from") or [])
        and roles.intersection(transition.get("roles") or [])
    ]


def transition_get(
    workflow: Workflow, *, name: str, state: str, role: str | Collection[str]
) -> Transition:
    """The transition `name` if `role` may make it from `state`; TransitionNotAllowed otherwise
    (unknown name, wrong state, wrong role: one message, so nothing leaks about the table)."""
    for transition in transitions_for(workflow, state=state, role=role):
        if transition.get("name") == name:
            return transition
    raise TransitionNotAllowed()


def comment_required(transition: Transition) -> bool:
    return transition.get("comment") == "required"


def event_kind_for(workflow: Workflow, *, transition: Transition, from_state: str) -> str:
    """The timeline kind of a move: a request for information, the answer, a withdrawal,
    or an ordinary change of status (values of `ApplicationEvent.Kind`)."""
    to_state = str(transition["to"])
    if state_is_waiting_citizen(workflow, to_state):
        return "info_requested"
    if state_is_waiting_citizen(workflow, from_state):
        return "info_provided"
    if state_outcome(workflow, to_state) == WITHDRAWN_OUTCOME:
        return "withdrawn"
    return "transition"


def deadlines_for(
    workflow: Workflow, submitted_at: datetime
) -> tuple[datetime | None, datetime | None, str | None]:
    """(service-level due date, "silence vaut accord/refus" date, state reached by silence),
    counted in calendar days from `submitted_at` (or from when the file became complete)."""
    deadlines = workflow.get("deadlines") or {}
    sla_days = deadlines.get("sla_days")
    sla_due_at = submitted_at + timedelta(days=int(sla_days)) if sla_days else None
    silence = deadlines.get("silence") or {}
    if not silence.get("after_days") or not silence.get("outcome"):
        return sla_due_at, None, None
    silence_due_at = submitted_at + timedelta(days=int(silence["after_days"]))
    return sla_due_at, silence_due_at, str(silence["outcome"])


def workflow_problems(workflow: Workflow) -> list[str]:
    """What is inconsistent in a workflow table (empty when it can be applied)."""
    problems: list[str] = []
    states = workflow.get("states") or {}
    if workflow.get("initial") not in states:
        problems.append(_("The initial state is not one of the states."))
    elif state_is_final(workflow, str(workflow["initial"])):
        problems.append(_("The initial state cannot be final."))
    names: set[str] = set()
    for transition in workflow.get("transitions") or []:
        name = transition.get("name", "")
        if name in names:
            problems.append(_("Transition “%(name)s” is declared twice.") % {"name": name})
        names.add(name)
        for state in [*(transition.get("from") or []), transition.get("to")]:
            if state not in states:
                problems.append(
                    _("Transition “%(name)s” uses the unknown state “%(state)s”.")
                    % {"name": name, "state": state}
                )
        for state in transition.get("from") or []:
            if state_is_final(workflow, state):
                problems.append(
                    _("Transition “%(name)s” leaves the final state “%(state)s”.")
                    % {"name": name, "state": state}
                )
    outcome = ((workflow.get("deadlines") or {}).get("silence") or {}).get("outcome")
    if outcome and not state_is_final(workflow, outcome):
        problems.append(_("The state reached by silence must be a final state."))
    return problems
