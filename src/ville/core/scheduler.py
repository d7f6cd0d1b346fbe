"""Periodic jobs: a registry that apps fill from `AppConfig.ready`, run by `ville scheduler`.

Every run holds a database-wide lock, so with several nodes a job never runs twice at
once: a PostgreSQL advisory lock on its own connection; elsewhere (SQLite, one node) a
lock in Django's cache, which is per process unless a shared cache is configured. Jobs
must be idempotent: a second node's scheduler, a cron `--once` or a retry may run them
again, and must then find nothing left to do.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, DatabaseError, close_old_connections, connections
from django.utils.module_loading import import_string

logger = logging.getLogger("ville.scheduler")

DEFAULT_LOCK_SECONDS = 60 * 60
# The loop wakes at least this often, so a stop request or a new due job waits little.
MAX_SLEEP_SECONDS = 5.0


@dataclass(frozen=True)
class Job:
    name: str
    every_seconds: float
    func: Callable[[], Any] | str
    # How long the cache lock outlives a crashed run (the PostgreSQL lock dies with the
    # connection); longer than the job's worst run.
    lock_seconds: float = DEFAULT_LOCK_SECONDS

    def resolve(self) -> Callable[[], Any]:
        return import_string(self.func) if isinstance(self.func, str) else self.func


class Outcome(StrEnum):
    RAN = "ran"
    SKIPPED = "skipped"  # another runner holds the lock
    FAILED = "failed"


@dataclass(frozen=True)
class JobRun:
    job: str
    outcome: Outcome
    duration_ms: int = 0
    result: Any = None
    error: str = ""


_jobs: dict[str, Job] = {}
_jobs_lock = threading.Lock()


def register_job(
    name: str,
    every_seconds: float,
    func: Callable[[], Any] | str,
    *,
    lock_seconds: float = DEFAULT_LOCK_SECONDS,
) -> Job:
    """Declare a periodic job; `func` takes no argument (or is its dotted path).

    Registering the same name again replaces the job, so `ready()` may run twice.
    """
    if every_seconds <= 0:
        raise ValueError("every_seconds must be positive")
    job = Job(name=name, every_seconds=every_seconds, func=func, lock_seconds=lock_seconds)
    with _jobs_lock:
        _jobs[name] = job
    return job


def unregister_job(name: str) -> None:
    with _jobs_lock:
        _jobs.pop(name, None)


def registered_jobs() -> list[Job]:
    with _jobs_lock:
        return sorted(_jobs.values(), key=lambda job: job.name)


def job_lock_key(name: str) -> int:
    """A stable signed 64-bit key for `pg_try_advisory_lock` (Python's hash() is salted)."""
    digest = hashlib.sha256(f"ville.scheduler:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def job_lock(name: str, *, lock_seconds: float = DEFAULT_LOCK_SECONDS) -> Iterator[bool]:
    """Try to take the job's lock without waiting; yields whether it was taken."""
    if connections[DEFAULT_DB_ALIAS].vendor == "postgresql":
        with _advisory_lock(job_lock_key(name)) as acquired:
            yield acquired
    else:
        with _cache_lock(f"ville:scheduler:lock:{name}", lock_seconds) as acquired:
            yield acquired


@contextmanager
def _advisory_lock(key: int) -> Iterator[bool]:
    # A connection of its own, outside any transaction: the job may commit, roll back or
    # close its connection without losing the lock; if the process dies, so does the lock.
    connection = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            acquired = bool(cursor.fetchone()[0])
        yield acquired
    finally:
        # Closing the session releases the lock.
        connection.close()


@contextmanager
def _cache_lock(key: str, lock_seconds: float) -> Iterator[bool]:
    token = secrets.token_hex(8)
    acquired = cache.add(key, token, timeout=lock_seconds)
    try:
        yield acquired
    finally:
        if acquired and cache.get(key) == token:
            cache.delete(key)


def job_run(job: Job) -> JobRun:
    """Run the job once if no other runner holds its lock; log and return the outcome."""
    started = time.monotonic()
    with job_lock(job.name, lock_seconds=job.lock_seconds) as acquired:
        if not acquired:
            logger.info("job %s skipped: running elsewhere", job.name)
            return JobRun(job.name, Outcome.SKIPPED)
        try:
            result = job.resolve()()
        except Exception as exc:
            duration = _elapsed_ms(started)
            logger.exception("job %s failed after %d ms", job.name, duration)
            return JobRun(job.name, Outcome.FAILED, duration, error=f"{type(exc).__name__}: {exc}")
    duration = _elapsed_ms(started)
    logger.info("job %s ran in %d ms: %r", job.name, duration, result)
    return JobRun(job.name, Outcome.RAN, duration, result=result)


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


class Scheduler:
    """Runs each job every `every_seconds` (measured on the monotonic clock, per process)."""

    def __init__(
        self, jobs: Iterable[Job] | None = None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.jobs = list(registered_jobs() if jobs is None else jobs)
        self.clock = clock
        start = clock()
        # Every job is due at start: a restarted scheduler catches up at once.
        self.next_due = {job.name: start for job in self.jobs}

    def due(self) -> list[Job]:
        now = self.clock()
        return [job for job in self.jobs if self.next_due[job.name] <= now]

    def tick(self, *, stop: threading.Event | None = None) -> list[JobRun]:
        runs = []
        for job in self.due():
            if stop is not None and stop.is_set():
                break
            self.next_due[job.name] = self.clock() + job.every_seconds
            try:
                runs.append(job_run(job))
            except DatabaseError:
                # The lock itself could not be taken (database away): try at the next turn.
                logger.exception("job %s: no lock", job.name)
                runs.append(JobRun(job.name, Outcome.FAILED, error="lock unavailable"))
        return runs

    def seconds_to_next(self) -> float:
        if not self.jobs:
            return MAX_SLEEP_SECONDS
        wait = min(self.next_due.values()) - self.clock()
        return max(0.0, min(wait, MAX_SLEEP_SECONDS))

    def run_forever(self, stop: threading.Event) -> None:
        """Tick until `stop` is set; the job in progress always finishes first."""
        logger.info("scheduler started with %s", ", ".join(j.name for j in self.jobs) or "no job")
        while not stop.is_set():
            # A process that lives for weeks must not keep a broken or too old connection
            # (what Django does around each request).
            close_old_connections()
            self.tick(stop=stop)
            close_old_connections()
            stop.wait(self.seconds_to_next())
        logger.info("scheduler stopped")


def scheduler_run_once(*, names: Iterable[str] | None = None) -> list[JobRun]:
    """Run every registered job (or the named ones) once: for cron and tests."""
    jobs = registered_jobs()
    if names is not None:
        wanted = set(names)
        unknown = wanted - {job.name for job in jobs}
        if unknown:
            raise KeyError(f"unknown job(s): {', '.join(sorted(unknown))}")
        jobs = [job for job in jobs if job.name in wanted]
    return Scheduler(jobs).tick()
