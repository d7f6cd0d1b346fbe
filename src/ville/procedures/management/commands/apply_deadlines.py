"""`ville apply-deadlines`: decide by silence every application whose deadline passed.

Safe to run from cron on several nodes at once; prints how many were decided.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from ville.procedures.services import applications_apply_silence


class Command(BaseCommand):
    help = 'Apply "silence vaut accord / refus": decide applications past their deadline.'

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--now",
            help="ISO date-time to use as the current time (past only: to replay a missed run).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now = None
        if options.get("now"):
            now = parse_datetime(options["now"])
            if now is None:
                raise CommandError("--now must be an ISO 8601 date-time.")
            if timezone.is_naive(now):
                now = timezone.make_aware(now)
            if now > timezone.now():
                # A date in the future would decide applications before their deadline.
                raise CommandError("--now cannot be in the future.")
        decided = applications_apply_silence(now=now)
        self.stdout.write(f"{decided} application(s) decided by silence.")
