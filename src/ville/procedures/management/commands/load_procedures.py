"""`ville load-procedures`: load or refresh the procedure definitions (YAML) into versions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ville.procedures.definitions import DefinitionError, procedures_dir, procedures_load


class Command(BaseCommand):
    help = (
        "Load catalogue/procedures/*.yaml (idempotent: a changed file becomes a new version). "
        "Each bad file is reported and the others are still loaded."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--directory",
            type=Path,
            default=None,
            help="Folder of the YAML files (default: VILLE_CATALOGUE_DIR/procedures).",
        )

    def handle(self, *args: Any, directory: Path | None = None, **options: Any) -> None:
        def report(error: DefinitionError) -> None:
            self.stderr.write(f"error: {error}")

        counts = procedures_load(directory=directory, on_error=report)
        self.stdout.write(
            f"{directory or procedures_dir()}: {counts['files']} files, "
            f"{counts['procedures']} new procedures, {counts['versions']} new versions, "
            f"{counts['unchanged']} unchanged, {counts['failed']} failed."
        )
        if counts["failed"]:
            raise CommandError(f"{counts['failed']} definition file(s) could not be loaded.")
