"""`ville audit verify` as people run it: exit 0 on a sound chain, non-zero naming the row."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from tests.conftest import run_ville
from ville.audit.services import audit_record


@pytest.mark.django_db
def test_verify_passes_then_names_the_edited_row(capsys: pytest.CaptureFixture[str]) -> None:
    events = [audit_record(action="login", actor_label=f"u{i}@example.org") for i in range(5)]
    call_command("audit", "verify")
    assert "5 rows verified" in capsys.readouterr().out

    edited = events[2]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET actor_label = %s WHERE id = %s",
            [
                "someone-else@example.org",
                edited.id.hex if connection.vendor == "sqlite" else edited.id,
            ],
        )
    with pytest.raises(CommandError, match="broken"):
        call_command("audit", "verify")
    err = capsys.readouterr().err
    assert f"seq={edited.seq} id={edited.id}" in err
    assert "edited" in err


@pytest.mark.postgres
def test_cli_on_postgres_detects_an_sql_edit(fresh_postgres_url: str) -> None:
    import psycopg

    assert run_ville("migrate", "--noinput", database_url=fresh_postgres_url).returncode == 0
    write = "from ville.audit.services import audit_record as r; [r(action='login') for _ in '123']"
    assert run_ville("shell", "-c", write, database_url=fresh_postgres_url).returncode == 0
    sound = run_ville("audit", "verify", database_url=fresh_postgres_url)
    assert sound.returncode == 0, sound.stderr
    assert "3 rows verified" in sound.stdout

    with psycopg.connect(fresh_postgres_url, autocommit=True) as conn:
        row = conn.execute("SELECT id, seq FROM audit_auditevent WHERE seq = 2").fetchone()
        assert row is not None
        conn.execute("UPDATE audit_auditevent SET action = 'logout' WHERE id = %s", [row[0]])

    broken = run_ville("audit", "verify", database_url=fresh_postgres_url)
    assert broken.returncode != 0
    assert f"seq=2 id={row[0]}" in broken.stderr
