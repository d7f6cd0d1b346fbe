"""`ville load-demo [--reset]`: the demo territory, the logins of DESIGN.md, 60 households."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ville.core.demo.banner import logins_text
from ville.core.demo.services import DemoDataMissing, demo_load


class Command(BaseCommand):
    help = (
        "Load the demo territory and people (idempotent). Dates are computed from today, "
        "so the ages of the demo household are always the same."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete the demo people and their households first (the TOTP secret is kept).",
        )

    def handle(self, *args: Any, reset: bool = False, **options: Any) -> None:
        started = time.monotonic()
        try:
            summary = demo_load(reset=reset)
        except DemoDataMissing as exc:
            raise CommandError(str(exc)) from exc
        if options.get("verbosity", 1) < 1:
            return
        self.stdout.write(
            f"Demo loaded in {time.monotonic() - started:.1f} s: "
            f"{summary.citizens_total} residents in {summary.households_total} households "
            f"({summary.citizens_created} accounts created)."
        )
        self.stdout.write(logins_text(summary))
