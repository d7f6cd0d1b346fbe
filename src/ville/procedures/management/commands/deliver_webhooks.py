"""`ville deliver-webhooks`: sends the outbox events that are due, once (for cron).

The scheduler does the same every 30 seconds; both may run together without double sends.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ville.procedures.webhooks import outbox_deliver_due


class Command(BaseCommand):
    help = "Deliver the webhook outbox events that are due, then exit."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--limit", type=int, default=100, help="At most N tries (default: %(default)s)."
        )

    def handle(self, *args: Any, limit: int, **options: Any) -> None:
        tries = outbox_deliver_due(limit=max(1, limit))
        self.stdout.write(f"{tries} webhook delivery attempt(s).")
