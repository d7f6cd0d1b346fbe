"""Two people acting on one application at once: exactly one wins, the other gets a clear
conflict, nothing is lost. On PostgreSQL with real threads and connections."""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connection

from tests.procedures.world import NOW, move, submitted_application
from ville.audit.services import audit_verify
from ville.procedures import services
from ville.procedures import workflow as wf
from ville.procedures.errors import Conflict
from ville.procedures.models import Application, ApplicationEvent

DEADLINE_PASSED = NOW.replace(year=2027)


def final_events(application: Application) -> list[tuple[str, str]]:
    return list(
        ApplicationEvent.objects.filter(application=application)
        .exclude(kind__in=["created", "submitted"])
        .values_list("kind", "to_state")
    )


@pytest.mark.django_db
def test_same_version_twice_one_wins_the_other_conflicts(world: SimpleNamespace) -> None:
    application = submitted_application(world)
    move(application, world.agent, "start_review")
    seen = Application.objects.get(pk=application.pk).lock_version
    won = services.application_transition(
        actor=world.agent,
        application_id=application.pk,
        transition="accept",
        expected_lock_version=seen,
    )
    with pytest.raises(Conflict):
        services.application_transition(
            actor=world.colleague,
            application_id=application.pk,
            transition="request_info",
            comment="A newer bill, please.",
            expected_lock_version=seen,
        )
    fresh = Application.objects.get(pk=application.pk)
    assert fresh.state == "accepted" == won.state
    assert fresh.lock_version == seen + 1
    assert final_events(application) == [("transition", "in_review"), ("transition", "accepted")]


# --- PostgreSQL: real concurrency ------------------------------------------------------------


def postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("real concurrent writers need PostgreSQL; this runs in the PostgreSQL pass")


def run_together(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls in threads (one connection each) and return what each returned or
    raised."""
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        # The test's frozen clock is process-wide: the threads share it.
        try:
            results[index] = call()
        except Exception as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_agents_at_the_same_instant(world: SimpleNamespace, monkeypatch: Any) -> None:
    postgres_only()
    application = submitted_application(world)
    move(application, world.agent, "start_review")
    seen = Application.objects.get(pk=application.pk).lock_version
    # Both have read the application and checked the table before either writes.
    barrier = threading.Barrier(2, timeout=10)
    real = wf.transition_get

    def both_checked(*args: Any, **kwargs: Any) -> dict[str, Any]:
        found = real(*args, **kwargs)
        barrier.wait()
        return found

    monkeypatch.setattr(wf, "transition_get", both_checked)
    results = run_together(
        [
            lambda: services.application_transition(
                actor=world.agent,
                application_id=application.pk,
                transition="accept",
                expected_lock_version=seen,
            ),
            lambda: services.application_transition(
                actor=world.colleague,
                application_id=application.pk,
                transition="refuse",
                comment="Incomplete",
                expected_lock_version=seen,
            ),
        ]
    )
    winners = [r for r in results if isinstance(r, Application)]
    losers = [r for r in results if isinstance(r, Conflict)]
    assert (len(winners), len(losers)) == (1, 1), results
    fresh = Application.objects.get(pk=application.pk)
    assert fresh.state == winners[0].state
    assert fresh.lock_version == seen + 1
    assert final_events(application)[1:] == [("transition", fresh.state)]
    assert list(audit_verify()) == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_silence_and_an_agent_at_the_same_instant(world: SimpleNamespace) -> None:
    postgres_only()
    application = submitted_application(world)
    move(application, world.agent, "start_review")
    seen = Application.objects.get(pk=application.pk).lock_version
    results = run_together(
        [
            lambda: services.application_transition(
                actor=world.agent,
                application_id=application.pk,
                transition="refuse",
                comment="Too late for this year",
                expected_lock_version=seen,
            ),
            lambda: services.applications_apply_silence(now=DEADLINE_PASSED),
        ]
    )
    fresh = Application.objects.get(pk=application.pk)
    decisions = [kind for kind, _state in final_events(application)[1:]]
    assert len(decisions) == 1, decisions
    if decisions == ["auto_decided"]:
        assert isinstance(results[0], Conflict) and results[1] == 1
        assert fresh.state == "accepted"
    else:
        assert isinstance(results[0], Application) and results[1] == 0
        assert fresh.state == "refused"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_several_silence_workers_decide_each_application_once(world: SimpleNamespace) -> None:
    postgres_only()
    applications = [submitted_application(world) for _ in range(6)]
    applications += [submitted_application(world, citizen=world.other) for _ in range(6)]
    results = run_together(
        [lambda: services.applications_apply_silence(now=DEADLINE_PASSED) for _ in range(3)]
    )
    assert all(isinstance(count, int) for count in results), results
    assert sum(results) == 12
    per_application = ApplicationEvent.objects.filter(kind="auto_decided").values_list(
        "application_id", flat=True
    )
    assert sorted(per_application) == sorted(a.pk for a in applications)
    assert set(Application.objects.values_list("state", flat=True)) == {"accepted"}
    assert list(audit_verify()) == []
