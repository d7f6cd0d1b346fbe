"""`ville seed-scale --applications M`: synthetic applications in bulk, with their timelines."""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db.models import Count

from tests.conftest import run_ville
from ville.procedures.models import Application, ApplicationEvent, Procedure
from ville.procedures.tracking import ALPHABET, LENGTH

pytestmark = pytest.mark.django_db

FROZEN = dt.datetime(2026, 3, 15, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))


def _seed(**options: object) -> str:
    out = io.StringIO()
    with time_machine.travel(FROZEN, tick=False):
        call_command("seed_scale", stdout=out, **options)
    return out.getvalue()


@pytest.fixture
def seeded(db: None) -> str:
    """The real territory and definitions, 60 citizens and 300 applications."""
    return _seed(citizens=60, applications=300, batch=40, seed=7)


def test_mix_of_states_and_procedures(seeded: str) -> None:
    applications = Application.objects.all()
    assert applications.count() == 300
    finals = {"accepted", "refused"}
    by_state = Counter(applications.values_list("state", flat=True))
    decided = sum(n for state, n in by_state.items() if state in finals)
    waiting = by_state["info_requested"]
    # 10 / 20 / 30 / 10 / 30 % (in review: in_review, or `scheduled` for bulky waste).
    assert 15 <= by_state["draft"] <= 45
    assert 40 <= by_state["submitted"] <= 80
    assert 60 <= by_state["in_review"] + by_state["scheduled"] <= 120
    assert 15 <= waiting <= 45
    assert 60 <= decided <= 120
    assert applications.values("procedure").distinct().count() >= 15
    assert Procedure.objects.count() == 22
    # Every application belongs to a synthetic citizen, in its procedure's service.
    assert not applications.exclude(citizen__email__startswith="scale.").exists()
    for application in applications.select_related("procedure")[:50]:
        assert application.service_id == application.procedure.service_id
        assert application.version_id == application.procedure.current_version_id
    assert "Created 300 applications" in seeded
    assert "/ 300 applications" in seeded


def test_tracking_codes_and_dates(seeded: str) -> None:
    drafts = Application.objects.filter(state="draft")
    assert not drafts.filter(tracking_code__isnull=False).exists()
    assert not drafts.filter(submitted_at__isnull=False).exists()
    submitted = Application.objects.exclude(state="draft")
    codes = list(submitted.values_list("tracking_code", flat=True))
    assert len(codes) == len(set(codes)) == submitted.count()
    assert all(len(code) == LENGTH and set(code) <= set(ALPHABET) for code in codes)
    assert submitted.values("submission_key").distinct().count() == submitted.count()

    now = FROZEN
    for application in submitted:
        assert now - dt.timedelta(days=549) <= application.submitted_at <= now
        assert application.created_at <= application.submitted_at
    # Clocks as the services keep them: none once decided or while waiting for the citizen.
    decided = submitted.filter(state__in=("accepted", "refused"))
    assert not decided.filter(decided_at__isnull=True).exists()
    assert not decided.filter(sla_due_at__isnull=False).exists()
    assert not submitted.filter(state="info_requested", sla_due_at__isnull=False).exists()
    open_ = submitted.filter(state__in=("submitted", "in_review", "scheduled"))
    assert not open_.filter(sla_due_at__isnull=True).exists()
    overdue = open_.filter(sla_due_at__lt=now).count()
    assert 0 < overdue < open_.count()
    # Service-level due date from the definition's sla_days.
    for application in open_.select_related("version")[:30]:
        days = application.version.definition["workflow"]["deadlines"]["sla_days"]
        assert application.sla_due_at - application.submitted_at == dt.timedelta(days=days)


def test_timelines(seeded: str) -> None:
    events = Counter(
        ApplicationEvent.objects.values_list("application_id")
        .annotate(n=Count("id"))
        .values_list("n", flat=True)
    )
    assert sum(events.values()) == 300  # every application has a timeline
    per_state = {
        state: set(
            Application.objects.filter(state__in=states)
            .annotate(n=Count("events"))
            .values_list("n", flat=True)
        )
        for state, states in {
            "draft": ["draft"],
            "submitted": ["submitted"],
            "review": ["in_review", "scheduled"],
            "waiting": ["info_requested"],
            "decided": ["accepted", "refused"],
        }.items()
    }
    assert per_state == {
        "draft": {1},
        "submitted": {2},
        "review": {3},
        "waiting": {4},
        "decided": {4},
    }
    for application in Application.objects.exclude(state="draft")[:40]:
        timeline = list(application.events.order_by("created_at", "id"))
        assert timeline[0].kind == "created"
        assert timeline[1].kind == "submitted"
        assert timeline[-1].to_state == application.state
        assert [e.created_at for e in timeline] == sorted(e.created_at for e in timeline)
        assert application.lock_version == len(timeline) - 1


def test_needs_citizens_first(db: None) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="synthetic citizens"):
        _seed(applications=5)


@pytest.mark.postgres
def test_seed_applications_on_postgres_with_copy(fresh_postgres_url: str) -> None:
    migrated = run_ville("migrate", "--noinput", database_url=fresh_postgres_url)
    assert migrated.returncode == 0, migrated.stderr

    result = run_ville(
        "seed-scale",
        "--citizens",
        "500",
        "--applications",
        "2000",
        "--batch",
        "300",
        database_url=fresh_postgres_url,
    )

    assert result.returncode == 0, result.stderr
    assert "Created 2,000 applications" in result.stdout
    import psycopg

    with psycopg.connect(fresh_postgres_url) as conn:
        total, codes, distinct_codes, procedures = conn.execute(
            "SELECT count(*), count(tracking_code), count(DISTINCT tracking_code), "
            "count(DISTINCT procedure_id) FROM procedures_application"
        ).fetchone()
        events = conn.execute("SELECT count(*) FROM procedures_applicationevent").fetchone()[0]
        drafts = conn.execute(
            "SELECT count(*) FROM procedures_application WHERE state = 'draft'"
        ).fetchone()[0]
        analyzed = conn.execute(
            "SELECT last_vacuum IS NOT NULL OR last_analyze IS NOT NULL FROM pg_stat_user_tables "
            "WHERE relname = 'procedures_application'"
        ).fetchone()[0]
    assert total == 2000
    assert codes == distinct_codes == total - drafts
    assert 120 < drafts < 280
    assert procedures >= 18
    assert 5000 < events < 7000  # three a file on average
    assert analyzed
