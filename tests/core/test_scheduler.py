"""`ville scheduler`: the job registry, `--once`, the loop and its stop, and the lock that
makes a job run once when several runners try at the same moment (threads, processes)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.conftest import run_ville
from ville.core import scheduler
from ville.core.scheduler import (
    Job,
    Outcome,
    Scheduler,
    job_lock_key,
    job_run,
    register_job,
    registered_jobs,
    scheduler_run_once,
    unregister_job,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def jobs() -> Iterator[Callable[..., Job]]:
    """Register test jobs for one test only."""
    names: list[str] = []

    def register(name: str, func: Callable[[], Any], every_seconds: float = 60) -> Job:
        names.append(name)
        return register_job(name, every_seconds, func)

    yield register
    for name in names:
        unregister_job(name)
    cache.clear()


def test_the_webhook_delivery_is_registered_every_30_seconds() -> None:
    [job] = [job for job in registered_jobs() if job.name == "procedures.deliver_webhooks"]
    assert job.every_seconds == 30
    assert job.resolve().__name__ == "outbox_deliver_due"


def test_registering_again_replaces_and_bad_periods_are_refused(jobs) -> None:
    jobs("test.twice", lambda: 1)
    jobs("test.twice", lambda: 2, every_seconds=5)
    [job] = [job for job in registered_jobs() if job.name == "test.twice"]
    assert (job.every_seconds, job.resolve()()) == (5, 2)
    with pytest.raises(ValueError):
        register_job("test.never", 0, lambda: None)


def test_lock_key_is_stable_and_fits_a_bigint() -> None:
    key = job_lock_key("procedures.deliver_webhooks")
    assert key == job_lock_key("procedures.deliver_webhooks")
    assert key != job_lock_key("procedures.silence_deadlines")
    assert -(2**63) <= key < 2**63
    # Not Python's salted hash(): the same in every process.
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "from ville.core.scheduler import job_lock_key;"
            "print(job_lock_key('procedures.deliver_webhooks'))",
        ],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "random"},
    )
    assert int(out.stdout) == key


def test_once_runs_every_job_and_reports(jobs, capsys) -> None:
    calls: list[str] = []
    jobs("test.a", lambda: calls.append("a") or "a done")
    jobs("test.b", lambda: calls.append("b") or 3)
    call_command("scheduler", "--once")
    out = capsys.readouterr().out
    assert sorted(calls) == ["a", "b"]
    assert "test.a: ran" in out
    assert "'a done'" in out
    # The webhook job ran too (nothing was owed: zero tries).
    assert "procedures.deliver_webhooks: ran" in out


def test_once_with_job_runs_only_that_one(jobs, capsys) -> None:
    calls: list[str] = []
    jobs("test.a", lambda: calls.append("a"))
    jobs("test.b", lambda: calls.append("b"))
    call_command("scheduler", "--once", "--job", "test.b")
    assert calls == ["b"]
    with pytest.raises(CommandError, match="Unknown job"):
        call_command("scheduler", "--once", "--job", "test.missing")


def test_a_failing_job_does_not_stop_the_others_but_fails_the_command(jobs, capsys) -> None:
    calls: list[str] = []

    def broken() -> None:
        raise RuntimeError("connector down")

    jobs("test.broken", broken)
    jobs("test.fine", lambda: calls.append("fine"))
    with pytest.raises(CommandError, match=r"Failed: test\.broken"):
        call_command("scheduler", "--once", "--job", "test.broken", "--job", "test.fine")
    assert calls == ["fine"]
    assert "RuntimeError: connector down" in capsys.readouterr().out


def test_list_shows_the_jobs(jobs, capsys) -> None:
    jobs("test.listed", lambda: None, every_seconds=900)
    call_command("scheduler", "--list")
    out = capsys.readouterr().out
    assert "test.listed\tevery 900 s" in out
    assert "procedures.deliver_webhooks\tevery 30 s" in out


def test_two_runners_at_once_run_the_job_once(jobs) -> None:
    """Two schedulers (threads here; each has its own database connection) reach the same
    job at the same moment: the second finds it locked and skips it."""
    entered, release = threading.Event(), threading.Event()
    calls: list[int] = []

    def slow() -> str:
        calls.append(1)
        entered.set()
        release.wait(10)
        return "done"

    jobs("test.slow", slow)
    results: dict[str, Any] = {}

    def first_runner() -> None:
        try:
            results["first"] = scheduler_run_once(names=["test.slow"])
        finally:
            from django.db import connection

            connection.close()

    thread = threading.Thread(target=first_runner)
    thread.start()
    try:
        assert entered.wait(10)
        [second] = scheduler_run_once(names=["test.slow"])
    finally:
        release.set()
        thread.join(10)
    [first] = results["first"]
    assert (first.outcome, first.result) == (Outcome.RAN, "done")
    assert second.outcome == Outcome.SKIPPED
    assert calls == [1]
    # The lock is given back: the next turn runs it.
    assert job_run(Job("test.slow", 60, slow)).outcome == Outcome.RAN


def test_a_failed_run_gives_the_lock_back(jobs) -> None:
    attempts: list[int] = []

    def flaky() -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("first time")
        return "ok"

    job = jobs("test.flaky", flaky)
    failed = job_run(job)
    assert failed.outcome == Outcome.FAILED
    assert failed.error == "RuntimeError: first time"
    assert job_run(job).outcome == Outcome.RAN


def test_scheduler_runs_each_job_at_its_period() -> None:
    now = [1000.0]
    calls: list[str] = []
    fast = Job("test.fast", 30, lambda: calls.append("fast"))
    slow = Job("test.slowly", 300, lambda: calls.append("slow"))
    sched = Scheduler([fast, slow], clock=lambda: now[0])
    # Everything is due at start.
    assert [run.job for run in sched.tick()] == ["test.fast", "test.slowly"]
    now[0] += 29
    assert sched.tick() == []
    assert sched.seconds_to_next() == 1
    now[0] += 1
    assert [run.job for run in sched.tick()] == ["test.fast"]
    now[0] += 270
    assert [run.job for run in sched.tick()] == ["test.fast", "test.slowly"]
    assert calls == ["fast", "slow", "fast", "fast", "slow"]


def test_run_forever_stops_after_the_job_in_progress() -> None:
    stop = threading.Event()
    calls: list[int] = []

    def job() -> None:
        calls.append(1)
        if len(calls) == 3:
            # As SIGTERM does: only a flag; this run still finishes.
            stop.set()
            time.sleep(0.05)
            calls.append(99)

    sched = Scheduler([Job("test.loop", 0.01, job)])
    thread = threading.Thread(target=sched.run_forever, args=(stop,))
    thread.start()
    thread.join(10)
    assert not thread.is_alive()
    assert calls == [1, 1, 1, 99]


def test_cli_scheduler_runs_until_sigterm(tmp_path: Path) -> None:
    """`ville scheduler` as a real process: it runs the registered jobs, then exits 0 on
    SIGTERM."""
    database_url = f"sqlite:///{tmp_path / 'ville.sqlite3'}"
    env_extra = {"VILLE_DATA_DIR": str(tmp_path)}
    migrated = run_ville("migrate", "--noinput", database_url=database_url, **env_extra)
    assert migrated.returncode == 0, migrated.stderr
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "VILLE_TESTING": "1",
        "DJANGO_SETTINGS_MODULE": "ville.settings",
        "PYTHONUNBUFFERED": "1",
        **env_extra,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "ville", "scheduler"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 60
        seen = []
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            seen.append(line)
            if "job procedures.deliver_webhooks ran" in line:
                break
        assert any("job procedures.deliver_webhooks ran" in line for line in seen), seen
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, out
    assert "scheduler stopped" in out


@pytest.mark.postgres
def test_on_postgres_a_job_locked_by_another_node_is_skipped(
    fresh_postgres_url: str, tmp_path: Path
) -> None:
    """Another node holds the job's advisory lock: `ville scheduler --once` in a separate
    process skips the job; once the lock is free, it runs it."""
    import psycopg

    marker = tmp_path / "ran"
    code = (
        "from pathlib import Path;"
        "from django.core.management import call_command;"
        "from ville.core.scheduler import register_job;"
        f"register_job('test.probe', 60, lambda: Path({str(marker)!r}).write_text('x'));"
        "call_command('scheduler', once=True, jobs=['test.probe'])"
    )
    with psycopg.connect(fresh_postgres_url, autocommit=True) as other_node:
        other_node.execute("SELECT pg_advisory_lock(%s)", [job_lock_key("test.probe")])
        locked = run_ville("shell", "-c", code, database_url=fresh_postgres_url)
        assert locked.returncode == 0, locked.stderr
        assert "test.probe: skipped" in locked.stdout
        assert not marker.exists()
        other_node.execute("SELECT pg_advisory_unlock(%s)", [job_lock_key("test.probe")])
    free = run_ville("shell", "-c", code, database_url=fresh_postgres_url)
    assert free.returncode == 0, free.stderr
    assert "test.probe: ran" in free.stdout
    assert marker.read_text() == "x"


def test_cache_lock_is_used_off_postgres(jobs, django_db_blocker) -> None:
    from django.db import connection

    if connection.vendor == "postgresql":
        pytest.skip("PostgreSQL uses an advisory lock")
    with scheduler.job_lock("test.cached") as first:
        assert first
        assert cache.get("ville:scheduler:lock:test.cached")
        with scheduler.job_lock("test.cached") as second:
            assert not second
    assert cache.get("ville:scheduler:lock:test.cached") is None
