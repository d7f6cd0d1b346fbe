"""`ville seed-scale --citizens N`: N synthetic citizens with households, for load tests."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from ville.core.demo.scale import citizens_seed
from ville.territory.models import Address


class Command(BaseCommand):
    help = (
        "Create N synthetic citizens (scale.<n>@example.net, numbering after the existing "
        "ones) with households: about 55%% with a partner, 45%% with 1 to 3 children at the "
        "school nearest their address, spread over the address table, mixed languages. "
        "Uses COPY on PostgreSQL, bulk inserts on SQLite. Passwords are unusable (log in "
        "with force_login or a session) unless --demo-password gives every account one "
        "shared argon2 hash of the demo password."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--citizens", type=int, required=True, help="How many to create.")
        parser.add_argument(
            "--batch", type=int, default=10_000, help="Citizens per transaction (default: 10000)."
        )
        parser.add_argument(
            "--seed", type=int, default=None, help="Random seed (reproducible runs)."
        )
        parser.add_argument(
            "--demo-password",
            action="store_true",
            help="Give every account the demo password (one shared argon2 hash).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        count, batch = options["citizens"], options["batch"]
        if count < 0 or batch < 1:
            raise CommandError("--citizens must be ≥ 0 and --batch ≥ 1.")
        if not Address.objects.exists():
            from ville.territory.services import territory_load

            self.stdout.write("The address table is empty: loading the territory first.")
            territory_load()
        verbose = options["verbosity"] >= 1

        def progress(done: int, total: int, seconds: float) -> None:
            if verbose:
                rate = done / seconds if seconds else 0.0
                self.stdout.write(
                    f"  {done:>9,} / {total:,} citizens  {seconds:7.1f} s  ({rate:,.0f}/s)"
                )
                self.stdout.flush()

        self.stdout.write(f"Seeding {count:,} citizens on {connection.vendor}…")
        report = citizens_seed(
            count=count,
            batch=batch,
            seed=options["seed"],
            demo_password=options["demo_password"],
            progress=progress,
        )
        self.stdout.write(
            f"Created {report.created:,} citizens (scale.{report.first_number}@example.net "
            f"onwards), {report.households:,} households, {report.members:,} household "
            f"members in {report.seconds:.1f} s."
        )
