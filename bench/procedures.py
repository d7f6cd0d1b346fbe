"""Server-side time of the agents' queue and of submission at scale, against a trivial view.

Migrates, loads the demo, seeds N citizens and M applications, then times the queue page
(plain, filtered, searched), its JSON twin and a full canteen registration (start, every
step, submit) beside `/healthz`, interleaved, in one process with Django's test client.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from dashboard import configure, percentile

POSTGRES_ADMIN_URL = os.environ.get(
    "VILLE_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"
)
KEPT_DATABASE = "ville_bench_procedures"
QUEUE_TARGET_P95_MS = 150.0
SUBMIT_TARGET_P95_MS = 200.0
QUEUE_PATH = "/fr/agents/demandes/"
API_QUEUE_PATH = "/api/v1/applications/queue"
PROCEDURE = "canteen-registration"
AGENT_EMAIL = "bench.agent@example.org"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--citizens", type=int, default=100_000, help="Users to reach first.")
    parser.add_argument(
        "--applications", type=int, default=1_000_000, help="Applications to reach then."
    )
    parser.add_argument("--requests", type=int, default=300, help="Timed rounds.")
    parser.add_argument("--warmup", type=int, default=30, help="Untimed rounds first.")
    parser.add_argument("--sample", type=int, default=50, help="Families that file online.")
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


def prepare(citizens: int, applications: int) -> None:
    from django.core.management import call_command

    from ville.accounts.models import User
    from ville.core.demo.people import CAMILLE
    from ville.procedures.models import Application

    started = time.monotonic()
    call_command("migrate", interactive=False, verbosity=0)
    if not User.objects.filter(email=CAMILLE.email).exists():
        call_command("load_demo", verbosity=0)
    missing_citizens = max(0, citizens - User.objects.count())
    missing_applications = max(0, applications - Application.objects.count())
    if missing_citizens or missing_applications:
        call_command(
            "seed_scale",
            citizens=missing_citizens,
            applications=missing_applications,
            batch=10_000,
        )
    print(f"Prepared in {time.monotonic() - started:.1f} s.")


@dataclass
class Probe:
    """One timed thing: a GET through the whole stack, or a submission through services."""

    name: str
    label: str
    run: Callable[[int], tuple[Any, dict[str, float]]]
    target_ms: float | None = None
    ms: list[float] = field(default_factory=list)
    statuses: dict[Any, int] = field(default_factory=dict)


def _route_exists(path: str) -> bool:
    from django.urls import Resolver404, resolve

    try:
        resolve(path)
    except Resolver404:
        return False
    return True


def bench_agent() -> tuple[Any, Any, Any]:
    """An agent (TOTP enrolled) of the service holding the most submitted applications."""
    from django.db.models import Count
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from ville.accounts.models import ServiceRole, User
    from ville.procedures.models import DRAFT, Application
    from ville.territory.models import Service

    busiest = (
        Application.objects.exclude(state=DRAFT)
        .values("service_id")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .first()
    )
    if busiest is None:
        raise SystemExit("No submitted application: seed some with --applications.")
    service = Service.objects.get(pk=busiest["service_id"])
    agent, _ = User.objects.get_or_create(
        email=AGENT_EMAIL,
        defaults={"first_name": "Bench", "last_name": "Agent", "is_active": True},
    )
    ServiceRole.objects.get_or_create(user=agent, service=service)
    device, _ = TOTPDevice.objects.get_or_create(user=agent, name="bench", confirmed=True)
    return agent, service, device


def logged_in(user: Any, *, device: Any = None) -> Any:
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY

    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    if device is not None:
        # What passing the TOTP check leaves in the session (django_otp.login).
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


def get_probe(client: Any, name: str, paths: list[str], target: float | None) -> Probe:
    def run(i: int) -> tuple[Any, dict[str, float]]:
        return client.get(paths[i % len(paths)]).status_code, {}

    return Probe(name, f"GET {paths[0]}", run, target)


def selector_probe(agent: Any, name: str, label: str, **filters: Any) -> Probe:
    """The queue without its page (until the page exists): the selector, the page's rows
    read, and a plain-text rendering of each."""
    from ville.procedures.selectors import agent_queue

    def run(i: int) -> tuple[Any, dict[str, float]]:
        page = agent_queue(actor=agent, **filters)
        lines = [
            f"{a.tracking_code} {a.procedure.slug} {a.state} {a.citizen.last_name} "
            f"{a.assigned_to.last_name if a.assigned_to else ''} {a.sla_due_at}"
            for a in page.object_list
        ]
        return (200 if lines or page.paginator.count == 0 else 500), {}

    return Probe(name, label, run, QUEUE_TARGET_P95_MS)


def families(sample: int, rng: random.Random) -> list[tuple[Any, Any]]:
    """Synthetic citizens with a child the canteen takes (2 to 11, at a Villeurbanne school)."""
    from django.utils import timezone

    from ville.accounts.models import HouseholdMember, User

    today = timezone.localdate()
    rows = list(
        HouseholdMember.objects.filter(
            relation="child",
            school__authority__code="villeurbanne",
            birth_date__gt=today.replace(year=today.year - 11),
            birth_date__lte=today.replace(year=today.year - 3),
            household__adults__email__startswith="scale.",
        )
        # A seeded draft would be resumed with its made-up answers: start from scratch.
        .exclude(applications__state="draft")
        .values_list("household__adults__id", "id")[:20_000]
    )
    chosen = rng.sample(rows, min(sample, len(rows)))
    users = User.objects.in_bulk([user_id for user_id, _ in chosen])
    return [(users[user_id], child_id) for user_id, child_id in chosen]


def _answers(definition: Any, step_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """What a hurried parent types: prefilled values kept, the rest the simplest valid
    answer; conditional and optional fields left out."""
    today = dt.date.today()
    answers: dict[str, Any] = {}
    for item in definition.fields(step_id):
        name, kind = item["name"], item["type"]
        if name in data:
            answers[name] = data[name]
        elif "when" in item or not (item.get("required") or kind == "consent"):
            continue
        elif kind in ("consent",):
            answers[name] = True
        elif kind == "yes_no":
            answers[name] = False
        elif kind == "choice":
            answers[name] = item["choices"][0]["value"]
        elif kind == "multiple_choice":
            answers[name] = [c["value"] for c in item["choices"][:2]]
        elif kind == "date":
            answers[name] = (today + dt.timedelta(days=7)).isoformat()
        elif kind == "number":
            answers[name] = 1
        else:
            answers[name] = "Bench"
    return answers


def submission_probe(people: list[tuple[Any, Any]]) -> Probe:
    from django.utils import translation

    from ville.procedures.definitions import definition_of
    from ville.procedures.services import (
        application_save_step,
        application_start,
        application_submit,
    )

    def run(i: int) -> tuple[Any, dict[str, float]]:
        citizen, child_id = people[i % len(people)]
        try:
            with translation.override("fr"):
                application = application_start(
                    actor=citizen, procedure_slug=PROCEDURE, beneficiary_id=child_id
                )
                definition = definition_of(application.version)
                for step_id in definition.step_ids:
                    application = application_save_step(
                        actor=citizen,
                        application_id=application.pk,
                        step_id=step_id,
                        data=_answers(definition, step_id, application.data),
                        lang="fr",
                    )
                started = time.perf_counter()
                application_submit(
                    actor=citizen,
                    application_id=application.pk,
                    submission_key=uuid.uuid4(),
                    lang="fr",
                )
                submit_ms = (time.perf_counter() - started) * 1000
        except Exception as exc:  # reported as the probe's status
            return f"{type(exc).__name__}: {getattr(exc, 'fields', exc)}"[:120], {}
        return "ok", {"submit": submit_ms}

    return Probe("flow", f"{PROCEDURE}: start + steps + submit", run)


def measure(args: argparse.Namespace) -> list[Probe]:
    from django.db import connection

    from ville.procedures.models import Application

    rng = random.Random(2026)  # the same citizens and codes from one run to the next
    agent, service, device = bench_agent()
    client = logged_in(agent, device=device)
    codes = list(
        Application.objects.filter(service=service, tracking_code__isnull=False)
        .order_by()
        .values_list("tracking_code", flat=True)[:20_000]
    )
    codes = rng.sample(codes, min(100, len(codes)))
    probes = [get_probe(client, "trivial", ["/healthz"], None)]
    if _route_exists(QUEUE_PATH):
        probes += [
            get_probe(client, "queue", [QUEUE_PATH], QUEUE_TARGET_P95_MS),
            get_probe(
                client, "filtered", [f"{QUEUE_PATH}?state=in_review&overdue=1"], QUEUE_TARGET_P95_MS
            ),
            get_probe(
                client, "search", [f"{QUEUE_PATH}?q={code}" for code in codes], QUEUE_TARGET_P95_MS
            ),
        ]
    else:
        print(f"{QUEUE_PATH} does not exist yet: timing the selector agent_queue(...) instead.")
        probes += [
            selector_probe(agent, "queue", "agent_queue()"),
            selector_probe(
                agent,
                "filtered",
                "agent_queue(in_review, overdue)",
                state="in_review",
                overdue=True,
            ),
            selector_probe(agent, "search", "agent_queue(query=<code>)", query=codes[0]),
        ]
    if _route_exists(API_QUEUE_PATH):
        probes.append(get_probe(client, "api", [API_QUEUE_PATH], QUEUE_TARGET_P95_MS))
    people = families(args.sample, rng)
    if not people:
        raise SystemExit("No synthetic citizen has a child of canteen age: seed more citizens.")
    flow = submission_probe(people)
    submit = Probe("submit", "  of which application_submit", flow.run, SUBMIT_TARGET_P95_MS)
    probes.append(flow)

    # Every family and every code is used once before timing: their rows are read from
    # disk the first time, which is not what the steady state looks like.
    warmup = max(args.warmup, len(people))
    for i in range(warmup + args.requests):
        shift = i % len(probes)
        for probe in probes[shift:] + probes[:shift]:
            started = time.perf_counter()
            status, parts = probe.run(i)
            elapsed = (time.perf_counter() - started) * 1000
            if i < warmup:
                continue
            probe.ms.append(elapsed)
            probe.statuses[status] = probe.statuses.get(status, 0) + 1
            if "submit" in parts:
                submit.ms.append(parts["submit"])
                submit.statuses["ok"] = submit.statuses.get("ok", 0) + 1
    probes.append(submit)

    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        server = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FROM procedures_application "
            "WHERE service_id = %s AND state <> 'draft'",
            [service.pk],
        )
        in_service = cursor.fetchone()[0]
    print(
        f"{str(server).split(' on ')[0]}  applications: {Application.objects.count():,}"
        f"  in the agent's service ({service.code}): {in_service:,} submitted"
        f"  families filing: {len(people)}  timed rounds: {args.requests}"
    )
    return probes


def report(probes: list[Probe]) -> bool:
    trivial = sorted(probes[0].ms)
    trivial_p50, trivial_p95 = percentile(trivial, 50), percentile(trivial, 95)
    print(f"{'what':<46}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'×p50':>8}{'×p95':>8}  status")
    ok = True
    for probe in probes:
        ms = sorted(probe.ms)
        if len(ms) < 2:
            print(f"{probe.label:<46}  no timing  {probe.statuses}")
            ok = ok and probe.target_ms is None
            continue
        p50, p95, p99 = (percentile(ms, p) for p in (50, 95, 99))
        codes = ", ".join(f"{code}×{n}" for code, n in sorted(probe.statuses.items(), key=str))
        target = f"  (target p95 < {probe.target_ms:.0f})" if probe.target_ms else ""
        print(
            f"{probe.label[:45]:<46}{p50:9.2f}{p95:9.2f}{p99:9.2f}"
            f"{p50 / trivial_p50:8.1f}{p95 / trivial_p95:8.1f}  {codes}{target}"
        )
        if probe.target_ms is not None:
            good = set(probe.statuses) <= {200, "ok"} and bool(probe.statuses)
            ok = ok and p95 < probe.target_ms and good
    # A failed submission anywhere is a failure, whatever the timings.
    flow = next(p for p in probes if p.name == "flow")
    ok = ok and set(flow.statuses) == {"ok"}
    verdict = "PASS" if ok else "FAIL"
    print(
        f"{verdict}: queue p95 < {QUEUE_TARGET_P95_MS:.0f} ms with every response 200, "
        f"submission p95 < {SUBMIT_TARGET_P95_MS:.0f} ms with every flow through."
    )
    return ok


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with database(args.keep) as url:
        configure(url)
        prepare(args.citizens, args.applications)
        ok = report(measure(args))
        from django.db import connections

        connections.close_all()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
