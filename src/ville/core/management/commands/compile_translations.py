"""`ville compile-translations`: .po → .mo without gettext's msgfmt."""

from typing import Any

from django.core.management.base import BaseCommand

from ville.core.i18n import compile_catalogs


class Command(BaseCommand):
    help = "Compile the interface translations in pure Python (no msgfmt needed)."

    def handle(self, *args: Any, **options: Any) -> None:
        written = compile_catalogs()
        self.stdout.write(f"{len(written)} catalogue(s) compiled")
