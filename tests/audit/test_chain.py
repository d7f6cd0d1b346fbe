"""The hash chain: intact rows verify, an edit or a deletion is named."""

from __future__ import annotations

import pytest
from django.db import connection

from ville.audit import events as audit
from ville.audit.models import AuditEvent
from ville.audit.services import audit_record, audit_verify

pytestmark = pytest.mark.django_db


def _three_events() -> list[AuditEvent]:
    return [
        audit_record(action="login", actor_label="a@example.org", data={"n": i}) for i in range(3)
    ]


def test_rows_link_to_their_predecessor() -> None:
    first, second, third = _three_events()
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    assert [e.seq for e in (first, second, third)] == [1, 2, 3]
    assert list(audit_verify()) == []


def test_edit_in_sql_is_detected_and_named() -> None:
    _first, second, _third = _three_events()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET action = %s WHERE seq = %s", ["logout", second.seq]
        )
    problems = list(audit_verify())
    assert problems, "an edited row must be reported"
    assert problems[0].seq == second.seq
    assert "edited" in problems[0].reason


def test_deleted_row_is_detected() -> None:
    _first, second, _third = _three_events()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE seq = %s", [second.seq])
    problems = list(audit_verify())
    assert any(p.seq == 3 and "deleted" in p.reason for p in problems)


def test_deleted_last_row_is_detected_by_the_head() -> None:
    _three_events()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE seq = 3")
    problems = list(audit_verify())
    assert problems and problems[-1].seq is None


def test_events_are_append_only() -> None:
    event = audit_record(action="login")
    event.action = "tampered"
    with pytest.raises(RuntimeError):
        event.save()
    with pytest.raises(RuntimeError):
        event.delete()


def test_security_event_helpers_use_the_security_category(rf) -> None:
    request = rf.post("/", REMOTE_ADDR="203.0.113.9")
    event = audit.record_login_failed(request=request, email="x@example.org", reason="bad_password")
    assert event.category == AuditEvent.Category.SECURITY
    assert event.ip == "203.0.113.9"
    assert event.actor_label == "x@example.org"
