"""`ville load-territory`: load or refresh the territory from the app's data files."""

from typing import Any

from django.core.management.base import BaseCommand

from ville.territory.services import territory_load


class Command(BaseCommand):
    help = "Load the metropolis, communes, districts, services, addresses and schools (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        counts = territory_load()
        self.stdout.write(", ".join(f"{name}: {count}" for name, count in counts.items()))
