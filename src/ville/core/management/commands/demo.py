"""`ville demo` (what `make demo` runs): migrate, load the demo once, run worker,
scheduler and web.

Ctrl-C or SIGTERM stops the web server, the worker and the scheduler together.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from types import FrameType
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ville.core.demo.banner import demo_banner
from ville.core.demo.services import DemoDataMissing, demo_is_current, demo_load, demo_summary
from ville.core.i18n import compile_catalogs
from ville.core.management.commands.serve import default_port, run_uvicorn

PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    # Linux only: if `ville demo` is killed outright, the kernel stops the worker too.
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _raise_exit(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


class Command(BaseCommand):
    help = "Run the demo: migrate, load the demo data if needed, start the worker and serve."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Interface (default: %(default)s).")
        parser.add_argument(
            "--port", type=int, default=default_port(), help="Port (default: $PORT or 8000)."
        )
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="Do not start the background worker and scheduler.",
        )

    def handle(self, *args: Any, host: str, port: int, no_worker: bool, **options: Any) -> None:
        started = time.monotonic()
        compile_catalogs()
        self.stdout.write("Applying migrations…")
        call_command("migrate", interactive=False, verbosity=0)
        try:
            if demo_is_current():
                summary = demo_summary()
                self.stdout.write("Demo data already loaded for today.")
            else:
                self.stdout.write("Loading the demo territory and people…")
                summary = demo_load()
        except DemoDataMissing as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Ready in {time.monotonic() - started:.1f} s.")

        background = [] if no_worker else [self._start("worker"), self._start("scheduler")]
        url_host = f"[{host}]" if ":" in host else host
        self.stdout.write(demo_banner(summary, url=f"http://{url_host}:{port}/"))
        self.stdout.flush()
        # uvicorn re-raises the signal that stopped it once it has shut down; a handler
        # that raises SystemExit turns SIGTERM into the `finally` below instead of death.
        previous = signal.signal(signal.SIGTERM, _raise_exit)
        try:
            run_uvicorn(host=host, port=port, workers=1)
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)
            for process in background:
                self._stop(process)
            if background:
                self.stdout.write("Worker and scheduler stopped.")

    def _start(self, command: str) -> subprocess.Popen[bytes]:
        self.stdout.write(f"Starting `ville {command}`…")
        return subprocess.Popen(  # noqa: S603 (command is one of our literals)
            [sys.executable, "-m", "ville", command],
            env=os.environ.copy(),
            preexec_fn=_die_with_parent,
        )

    def _stop(self, process: subprocess.Popen[bytes]) -> None:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
