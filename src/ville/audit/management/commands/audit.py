"""`ville audit verify`: walk the hash chain and name every row that was edited or deleted."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ville.audit.models import AuditEvent
from ville.audit.services import audit_verify


class Command(BaseCommand):
    help = "Audit trail tools. `verify` checks the hash chain."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["verify"])

    def handle(self, *args: Any, **options: Any) -> None:
        problems = list(audit_verify())
        count = AuditEvent.objects.count()
        if problems:
            for problem in problems:
                self.stderr.write(f"BROKEN {problem}")
            raise CommandError(f"audit chain broken: {len(problems)} problem(s) in {count} rows")
        self.stdout.write(f"audit chain intact: {count} rows verified")
