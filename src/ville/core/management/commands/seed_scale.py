"""`ville seed-scale --citizens N [--applications M]`: synthetic citizens with households, then
synthetic applications of theirs, for load tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from ville.core.demo.scale import citizens_seed
from ville.core.demo.scale_applications import applications_seed
from ville.territory.models import Address


class Command(BaseCommand):
    help = (
        "Create N synthetic citizens (scale.<n>@example.net, numbering after the existing "
        "ones) with households: about 55%% with a partner, 45%% with 1 to 3 children at the "
        "school nearest their address, spread over the address table, mixed languages. "
        "Uses COPY on PostgreSQL, bulk inserts on SQLite. Passwords are unusable (log in "
        "with force_login or a session) unless --demo-password gives every account one "
        "shared argon2 hash of the demo password. --applications M then adds M applications "
        "of the synthetic citizens over every loaded procedure, in a realistic mix of states."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--citizens", type=int, default=0, help="How many to create.")
        parser.add_argument(
            "--applications",
            type=int,
            default=0,
            help="Applications to create after the citizens (default: 0).",
        )
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
        applications = options["applications"]
        if count < 0 or applications < 0 or batch < 1:
            raise CommandError("--citizens and --applications must be ≥ 0, --batch ≥ 1.")
        if not count and not applications:
            raise CommandError("Give --citizens N and/or --applications M.")
        if not Address.objects.exists():
            from ville.territory.services import territory_load

            self.stdout.write("The address table is empty: loading the territory first.")
            territory_load()
        verbose = options["verbosity"] >= 1

        def progress_of(noun: str) -> Callable[[int, int, float], None]:
            def progress(done: int, total: int, seconds: float) -> None:
                if verbose:
                    rate = done / seconds if seconds else 0.0
                    self.stdout.write(
                        f"  {done:>9,} / {total:,} {noun}  {seconds:7.1f} s  ({rate:,.0f}/s)"
                    )
                    self.stdout.flush()

            return progress

        if count:
            self.stdout.write(f"Seeding {count:,} citizens on {connection.vendor}…")
            report = citizens_seed(
                count=count,
                batch=batch,
                seed=options["seed"],
                demo_password=options["demo_password"],
                progress=progress_of("citizens"),
            )
            self.stdout.write(
                f"Created {report.created:,} citizens (scale.{report.first_number}@example.net "
                f"onwards), {report.households:,} households, {report.members:,} household "
                f"members in {report.seconds:.1f} s."
            )
        if applications:
            self._applications(
                applications, batch=batch, seed=options["seed"], progress=progress_of
            )

    def _applications(
        self,
        count: int,
        *,
        batch: int,
        seed: int | None,
        progress: Callable[[str], Callable[[int, int, float], None]],
    ) -> None:
        from ville.procedures.models import Procedure

        if not Procedure.objects.filter(current_version__isnull=False).exists():
            from ville.procedures.definitions import procedures_load

            self.stdout.write("No procedure is loaded: loading the definitions first.")
            procedures_load()
        self.stdout.write(f"Seeding {count:,} applications on {connection.vendor}…")
        try:
            # Applications carry three timeline rows on average: keep batches of similar size.
            report = applications_seed(
                count=count, batch=max(1, batch * 2), seed=seed, progress=progress("applications")
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        states = ", ".join(f"{state} {n:,}" for state, n in sorted(report.by_state.items()))
        self.stdout.write(
            f"Created {report.created:,} applications ({states}) with {report.events:,} "
            f"timeline events in {report.seconds:.1f} s."
        )
