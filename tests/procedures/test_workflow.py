"""The pure transition table: who may do what from which state, and the deadlines."""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from ville.procedures import workflow as wf
from ville.procedures.errors import TransitionNotAllowed

WORKFLOW = {
    "initial": "submitted",
    "states": {
        "submitted": {"kind": "open", "label": {"fr": "Reçue"}},
        "in_review": {"kind": "open", "label": {"fr": "En cours"}},
        "info_requested": {"kind": "waiting_citizen", "label": {"fr": "Infos"}},
        "accepted": {"kind": "final", "outcome": "accepted", "label": {"fr": "Acceptée"}},
        "refused": {"kind": "final", "outcome": "refused", "label": {"fr": "Refusée"}},
        "withdrawn": {"kind": "final", "outcome": "withdrawn", "label": {"fr": "Retirée"}},
    },
    "transitions": [
        {"name": "start_review", "from": ["submitted"], "to": "in_review", "roles": ["agent"]},
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
        {"name": "reopen", "from": ["in_review"], "to": "submitted", "roles": ["supervisor"]},
        {
            "name": "withdraw",
            "from": ["submitted", "in_review", "info_requested"],
            "to": "withdrawn",
            "roles": ["citizen"],
        },
    ],
    "deadlines": {"sla_days": 15, "silence": {"after_days": 60, "outcome": "accepted"}},
    "grant": {"valid_for_days": 365},
}


def test_transitions_for_lists_only_what_the_role_may_do_from_the_state() -> None:
    names = [t["name"] for t in wf.transitions_for(WORKFLOW, state="submitted", role="agent")]
    assert names == ["start_review", "request_info"]
    citizen = [t["name"] for t in wf.transitions_for(WORKFLOW, state="submitted", role="citizen")]
    assert citizen == ["withdraw"]
    assert wf.transitions_for(WORKFLOW, state="accepted", role="agent") == []
    assert wf.transitions_for(WORKFLOW, state="draft", role="citizen") == []


def test_several_roles_add_up() -> None:
    names = [
        t["name"]
        for t in wf.transitions_for(WORKFLOW, state="in_review", role={"agent", "supervisor"})
    ]
    assert names == ["request_info", "accept", "reopen"]


@pytest.mark.parametrize(
    ("name", "state", "role"),
    [
        ("teleport", "submitted", "agent"),  # unknown
        ("accept", "submitted", "agent"),  # wrong state
        ("accept", "in_review", "citizen"),  # wrong role
        ("withdraw", "accepted", "citizen"),  # final
        ("reopen", "in_review", "agent"),  # supervisor only
    ],
)
def test_transition_get_refuses(name: str, state: str, role: str) -> None:
    with pytest.raises(TransitionNotAllowed) as caught:
        wf.transition_get(WORKFLOW, name=name, state=state, role=role)
    assert caught.value.code == "transition_not_allowed"
    assert caught.value.status == 409


def test_transition_get_returns_the_move() -> None:
    move = wf.transition_get(WORKFLOW, name="request_info", state="in_review", role="agent")
    assert move["to"] == "info_requested"
    assert wf.comment_required(move)
    assert not wf.comment_required(
        wf.transition_get(WORKFLOW, name="accept", state="in_review", role="agent")
    )


def test_state_helpers() -> None:
    assert wf.initial_state(WORKFLOW) == "submitted"
    assert wf.state_kind(WORKFLOW, "info_requested") == wf.WAITING_CITIZEN
    assert wf.state_is_waiting_citizen(WORKFLOW, "info_requested")
    assert wf.state_is_final(WORKFLOW, "refused")
    assert not wf.state_is_final(WORKFLOW, "in_review")
    assert not wf.state_is_final(WORKFLOW, "draft")
    assert wf.state_outcome(WORKFLOW, "accepted") == "accepted"
    assert wf.state_outcome(WORKFLOW, "in_review") is None
    assert wf.outcome_is_granting("accepted")
    assert not wf.outcome_is_granting("refused")
    assert wf.grant_valid_for_days(WORKFLOW) == 365


def test_event_kinds() -> None:
    def kind(name: str, state: str, role: str) -> str:
        move = wf.transition_get(WORKFLOW, name=name, state=state, role=role)
        return wf.event_kind_for(WORKFLOW, transition=move, from_state=state)

    assert kind("request_info", "in_review", "agent") == "info_requested"
    assert kind("provide_info", "info_requested", "citizen") == "info_provided"
    assert kind("withdraw", "submitted", "citizen") == "withdrawn"
    assert kind("accept", "in_review", "agent") == "transition"


def test_deadlines_count_calendar_days_from_submission() -> None:
    submitted = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
    sla, silence, outcome = wf.deadlines_for(WORKFLOW, submitted)
    assert sla == dt.datetime(2026, 3, 17, 9, 30, tzinfo=dt.UTC)
    assert silence == dt.datetime(2026, 5, 1, 9, 30, tzinfo=dt.UTC)
    assert outcome == "accepted"


def test_deadlines_without_silence_or_sla() -> None:
    submitted = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    bare = {**WORKFLOW, "deadlines": {"sla_days": 5}}
    assert wf.deadlines_for(bare, submitted) == (submitted + dt.timedelta(days=5), None, None)
    assert wf.deadlines_for({**WORKFLOW, "deadlines": {}}, submitted) == (None, None, None)


def test_workflow_problems() -> None:
    assert wf.workflow_problems(WORKFLOW) == []
    broken = copy.deepcopy(WORKFLOW)
    broken["initial"] = "accepted"
    broken["transitions"].append(
        {"name": "ghost", "from": ["accepted"], "to": "nowhere", "roles": ["agent"]}
    )
    broken["deadlines"]["silence"]["outcome"] = "in_review"
    problems = " | ".join(wf.workflow_problems(broken))
    assert "final" in problems or "finale" in problems
    assert "nowhere" in problems
    assert len(wf.workflow_problems(broken)) == 4
