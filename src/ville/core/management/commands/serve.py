"""`ville serve`: the ASGI application under uvicorn, translations compiled first.

Stateless: run as many as needed behind a load balancer, with `ville worker` beside them.
"""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connections

from ville.core.i18n import compile_catalogs

ASGI_APP = "ville.asgi:application"


def default_port() -> int:
    return int(os.environ.get("PORT") or 8000)


def run_uvicorn(*, host: str, port: int, workers: int = 1, log_level: str = "info") -> None:
    """Serve until interrupted (SIGINT/SIGTERM stop it gracefully)."""
    import uvicorn

    # Each uvicorn worker opens its own connections; none may be inherited half-used.
    connections.close_all()
    uvicorn.run(
        ASGI_APP,
        host=host,
        port=port,
        workers=workers,
        # Django's ASGI handler has no lifespan protocol; "off" avoids a warning per start.
        lifespan="off",
        log_level=log_level,
        server_header=False,
    )


class Command(BaseCommand):
    help = "Serve the platform with uvicorn (ASGI). Compiles the translations first."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Interface (default: %(default)s).")
        parser.add_argument(
            "--port", type=int, default=default_port(), help="Port (default: $PORT or 8000)."
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=int(os.environ.get("WEB_CONCURRENCY") or 1),
            help="Web processes (default: $WEB_CONCURRENCY or 1).",
        )

    def handle(self, *args: Any, host: str, port: int, workers: int, **options: Any) -> None:
        compile_catalogs()
        run_uvicorn(host=host, port=port, workers=max(1, workers))
