"""Fixtures shared by the whole suite: real PostgreSQL and Chromium when required."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_ADMIN_URL = os.environ.get(
    "VILLE_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"
)
CHROMIUM = os.environ.get("VILLE_CHROMIUM", "/usr/bin/chromium")
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"


def missing(requirement_env: str, reason: str) -> None:
    """Skip with a reason, or fail when the CI says the requirement must be met."""
    if os.environ.get(requirement_env) == "1":
        pytest.fail(f"{reason} ({requirement_env}=1)")
    pytest.skip(reason)


def pytest_sessionstart(session: pytest.Session) -> None:
    import django

    django.setup()
    from ville.core.i18n import compile_catalogs

    compile_catalogs()


@pytest.fixture(autouse=True)
def _default_language(settings) -> None:
    """Each test starts in the platform's default language."""
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    try:
        import psycopg

        with psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=3):
            pass
    except Exception as exc:
        missing(
            "VILLE_REQUIRE_POSTGRES", f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {exc}"
        )
    return POSTGRES_ADMIN_URL


@pytest.fixture
def fresh_postgres_url(postgres_admin_url: str) -> Iterator[str]:
    """An empty PostgreSQL database of its own, dropped afterwards."""
    import psycopg

    name = f"ville_t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = postgres_admin_url.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_ville(
    *args: str, database_url: str, timeout: int = 600, **env: str
) -> subprocess.CompletedProcess:
    """Run the `ville` console script in a subprocess against the given database."""
    full_env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "VILLE_TESTING": "1",
        "DJANGO_SETTINGS_MODULE": "ville.settings",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "ville", *args],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        missing("VILLE_REQUIRE_BROWSER", f"Chromium not found at {CHROMIUM}")
    if not AXE_JS.exists():
        missing("VILLE_REQUIRE_BROWSER", f"axe-core not installed ({AXE_JS}); run `npm ci`")
    try:
        import playwright  # noqa: F401
    except ImportError:
        missing("VILLE_REQUIRE_BROWSER", "playwright (Python) is not installed")
    return CHROMIUM
