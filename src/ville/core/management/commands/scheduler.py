"""`ville scheduler`: runs the periodic jobs that apps registered, until SIGTERM.

`--once` runs every job (or the `--job` ones) a single time and exits: for cron users.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ville.core.scheduler import Outcome, Scheduler, registered_jobs, scheduler_run_once


class Command(BaseCommand):
    help = "Run the periodic jobs (webhook delivery, deadlines…) forever, or once with --once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--once", action="store_true", help="Run every job once, then exit (for cron)."
        )
        parser.add_argument(
            "--job",
            action="append",
            dest="jobs",
            metavar="NAME",
            help="Only this job (repeatable).",
        )
        parser.add_argument("--list", action="store_true", help="List the jobs, then exit.")

    def handle(self, *args: Any, **options: Any) -> None:
        names: list[str] | None = options["jobs"]
        known = {job.name: job for job in registered_jobs()}
        if names:
            unknown = sorted(set(names) - set(known))
            if unknown:
                raise CommandError(f"Unknown job(s): {', '.join(unknown)}")
        if options["list"]:
            for job in known.values():
                self.stdout.write(f"{job.name}\tevery {job.every_seconds:g} s")
            return
        if options["once"]:
            failed = []
            for run in scheduler_run_once(names=names):
                detail = run.error if run.outcome == Outcome.FAILED else f"{run.result!r}"
                self.stdout.write(f"{run.job}: {run.outcome} in {run.duration_ms} ms ({detail})")
                if run.outcome == Outcome.FAILED:
                    failed.append(run.job)
            if failed:
                raise CommandError(f"Failed: {', '.join(failed)}")
            return
        jobs = [known[name] for name in names] if names else list(known.values())
        stop = threading.Event()

        def request_stop(signum: int, frame: Any) -> None:
            # Only a flag: the job in progress finishes, then the loop exits.
            stop.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        Scheduler(jobs).run_forever(stop)
