"""Server-side time of the personal dashboard at scale, against a trivial view (`make bench`).

Migrates, loads the demo, seeds to N citizens, then times `/fr/espace/` and
`/api/v1/me/dashboard` beside `/healthz` with Django's test client, interleaved.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import sys
import time
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

POSTGRES_ADMIN_URL = os.environ.get(
    "VILLE_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"
)
KEPT_DATABASE = "ville_bench"
TARGET_P95_MS = 100.0
ROUTES = (
    ("trivial", "/healthz"),
    ("page", "/fr/espace/"),
    ("api", "/api/v1/me/dashboard"),
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--citizens", type=int, default=500_000, help="Users to reach first.")
    parser.add_argument("--requests", type=int, default=300, help="Timed requests per route.")
    parser.add_argument("--warmup", type=int, default=30, help="Untimed rounds first.")
    parser.add_argument("--sample", type=int, default=50, help="Citizens logged in (+ Camille).")
    parser.add_argument(
        "--keep",
        action="store_true",
        help=f"Without DATABASE_URL: use (and keep) the database {KEPT_DATABASE!r} so a "
        "second run skips the seeding; by default a scratch database is dropped at the end.",
    )
    return parser.parse_args(argv)


@contextmanager
def database(keep: bool) -> Iterator[str]:
    """DATABASE_URL if set, else a PostgreSQL database created for this run."""
    if url := os.environ.get("DATABASE_URL"):
        yield url
        return
    import psycopg

    name = KEPT_DATABASE if keep else f"ville_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        if not keep:
            with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def configure(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "ville.settings"
    # Production settings (DEBUG off: no query log), with what the test client needs.
    os.environ["DEBUG"] = "0"
    os.environ.pop("VILLE_DEMO", None)
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ["ALLOWED_HOSTS"] = "testserver,localhost"
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    # Static files come from the apps (finders); an absent STATIC_ROOT is expected here.
    warnings.filterwarnings("ignore", message="No directory at")
    import django

    django.setup()


def prepare(citizens: int) -> None:
    from django.core.management import call_command

    from ville.accounts.models import User
    from ville.core.demo.people import CAMILLE

    started = time.monotonic()
    call_command("migrate", interactive=False, verbosity=0)
    if not User.objects.filter(email=CAMILLE.email).exists():
        call_command("load_demo", verbosity=0)
    missing = citizens - User.objects.count()
    if missing > 0:
        call_command("seed_scale", citizens=missing, batch=10_000)
    print(f"Prepared in {time.monotonic() - started:.1f} s.")


def percentile(sorted_ms: list[float], p: int) -> float:
    return statistics.quantiles(sorted_ms, n=100, method="inclusive")[p - 1]


def measure(args: argparse.Namespace) -> dict[str, tuple[list[float], dict[int, int]]]:
    from django.db import connection
    from django.test import Client

    from ville.accounts.models import User
    from ville.core.demo.people import CAMILLE
    from ville.core.demo.scale import scale_last_number

    rng = random.Random(2026)  # the same citizens from one run to the next
    last = scale_last_number()
    emails = [CAMILLE.email]
    if last:
        emails += [f"scale.{rng.randint(1, last)}@example.net" for _ in range(args.sample)]
    users = list(User.objects.filter(email__in=emails))
    clients = []
    for user in users:
        client = Client()
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        clients.append(client)

    timings: dict[str, tuple[list[float], dict[int, int]]] = {name: ([], {}) for name, _ in ROUTES}
    # Every client is warmed up at least once: its first request reads its user's rows
    # from disk into PostgreSQL's cache, which is not what the steady state looks like.
    warmup = max(args.warmup, len(clients))
    for i in range(warmup + args.requests):
        client = clients[i % len(clients)]
        # Rotate the order so no route always runs first (cold caches) or last.
        shift = i % len(ROUTES)
        for name, path in ROUTES[shift:] + ROUTES[:shift]:
            started = time.perf_counter()
            response = client.get(path)
            elapsed = (time.perf_counter() - started) * 1000
            if i >= warmup:
                ms, statuses = timings[name]
                ms.append(elapsed)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()" if connection.vendor == "postgresql" else "SELECT 1")
        server = cursor.fetchone()[0] if connection.vendor == "postgresql" else "SQLite"
    print(
        f"{str(server).split(' on ')[0]}"
        f"  users: {User.objects.count():,}  logged-in citizens: {len(clients)}"
        f"  timed requests per route: {args.requests}"
    )
    return timings


def report(timings: dict[str, tuple[list[float], dict[int, int]]]) -> bool:
    trivial_p50 = percentile(sorted(timings["trivial"][0]), 50)
    trivial_p95 = percentile(sorted(timings["trivial"][0]), 95)
    print(f"{'route':<28}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'×p50':>8}{'×p95':>8}  status")
    ok = True
    for name, path in ROUTES:
        ms, statuses = timings[name]
        ms.sort()
        p50, p95, p99 = (percentile(ms, p) for p in (50, 95, 99))
        codes = ", ".join(f"{code}×{n}" for code, n in sorted(statuses.items()))
        print(
            f"GET {path:<24}{p50:9.2f}{p95:9.2f}{p99:9.2f}"
            f"{p50 / trivial_p50:8.1f}{p95 / trivial_p95:8.1f}  {codes}"
        )
        if name != "trivial":
            ok = ok and p95 < TARGET_P95_MS and set(statuses) == {200}
    verdict = "PASS" if ok else "FAIL"
    print(f"{verdict}: target p95 < {TARGET_P95_MS:.0f} ms with every response 200.")
    return ok


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with database(args.keep) as url:
        configure(url)
        prepare(args.citizens)
        ok = report(measure(args))
        from django.db import connections

        connections.close_all()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
