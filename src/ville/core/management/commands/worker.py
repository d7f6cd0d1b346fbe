"""`ville worker`: runs the background tasks (django-tasks-db's `db_worker`).

Several workers may run on several machines against PostgreSQL: tasks are claimed with
`SELECT … FOR UPDATE SKIP LOCKED`, so each runs once.
"""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Run the background task worker (every queue unless --queue-name says otherwise)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--queue-name",
            default="*",
            help="Queues to process, comma-separated; '*' for all (default: %(default)s).",
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=1.0,
            help="Seconds to wait when the queue is empty (default: %(default)s).",
        )
        parser.add_argument(
            "--batch", action="store_true", help="Run the outstanding tasks, then exit."
        )
        parser.add_argument("--max-tasks", type=int, default=None, help="Exit after N tasks.")
        parser.add_argument("--worker-id", default=None, help="Unique id of this worker.")
        parser.add_argument(
            "--reload", action="store_true", help="Restart on code changes (development)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        forwarded: dict[str, Any] = {
            "queue_name": options["queue_name"],
            "interval": options["interval"],
            "batch": options["batch"],
            # db_worker reloads on code changes whenever DEBUG is on (so in the demo);
            # a worker started by `ville demo` must stop with it, not fork a reloader.
            "reload": options["reload"],
            "max_tasks": options["max_tasks"],
            "verbosity": options["verbosity"],
        }
        if options["worker_id"]:
            forwarded["worker_id"] = options["worker_id"]
        call_command("db_worker", **forwarded)
