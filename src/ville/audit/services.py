"""Writing to the audit trail and checking its hash chain.

Callers use the small functions of `ville.audit.events`; they all end in `audit_record`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from ville.audit.models import GENESIS_HASH, AuditEvent, ChainHead


def compute_hash(
    *,
    prev_hash: str,
    seq: int,
    created_at: datetime,
    category: str,
    action: str,
    actor_id: UUID | str | None,
    actor_label: str,
    subject_id: UUID | str | None,
    target_type: str,
    target_id: str,
    ip: str | None,
    data: dict[str, Any],
) -> str:
    payload = json.dumps(
        [
            prev_hash,
            seq,
            created_at.astimezone(UTC).isoformat(timespec="microseconds"),
            category,
            action,
            str(actor_id) if actor_id else None,
            actor_label,
            str(subject_id) if subject_id else None,
            target_type,
            target_id,
            ip,
            data,
        ],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _normalise(data: dict[str, Any]) -> dict[str, Any]:
    # What the database gives back must hash like what we wrote: round-trip through JSON.
    return json.loads(json.dumps(data, default=str))


def audit_record(
    *,
    action: str,
    category: str = AuditEvent.Category.AUDIT,
    actor: Any = None,
    actor_label: str = "",
    subject_id: UUID | str | None = None,
    target_type: str = "",
    target_id: str = "",
    ip: str | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event. Joins the caller's transaction, so it lands only if the change does."""
    actor_id = getattr(actor, "pk", None) if actor is not None else None
    if actor is not None and not actor_label:
        actor_label = getattr(actor, "email", "") or str(actor)
    clean = _normalise(data or {})
    with transaction.atomic():
        head, _created = ChainHead.objects.select_for_update().get_or_create(pk=1)
        seq = head.seq + 1
        created_at = timezone.now()
        fields: dict[str, Any] = {
            "seq": seq,
            "created_at": created_at,
            "category": str(category),
            "action": action,
            "actor_id": actor_id,
            "actor_label": actor_label[:254],
            "subject_id": subject_id,
            "target_type": target_type,
            "target_id": str(target_id)[:64],
            "ip": ip,
            "data": clean,
        }
        digest = compute_hash(prev_hash=head.hash, **fields)
        event = AuditEvent.objects.create(prev_hash=head.hash, hash=digest, **fields)
        ChainHead.objects.filter(pk=1).update(seq=seq, hash=digest)
    return event


@dataclass(frozen=True)
class ChainProblem:
    seq: int | None
    event_id: str | None
    reason: str

    def __str__(self) -> str:
        where = f"row seq={self.seq} id={self.event_id}" if self.seq is not None else "chain head"
        return f"{where}: {self.reason}"


def audit_verify(*, batch_size: int = 5000) -> Iterator[ChainProblem]:
    """Walk the chain in order and yield every row that does not hash as it should."""
    prev_hash = GENESIS_HASH
    expected_seq = 1
    rows = AuditEvent.objects.order_by("seq").values().iterator(chunk_size=batch_size)
    for row in rows:
        if row["seq"] != expected_seq:
            yield ChainProblem(
                row["seq"],
                str(row["id"]),
                f"sequence jumps from {expected_seq - 1} to {row['seq']} (rows deleted)",
            )
        if row["prev_hash"] != prev_hash:
            yield ChainProblem(
                row["seq"], str(row["id"]), "previous-hash link broken (a row before was changed)"
            )
        digest = compute_hash(
            prev_hash=row["prev_hash"],
            seq=row["seq"],
            created_at=row["created_at"],
            category=row["category"],
            action=row["action"],
            actor_id=row["actor_id"],
            actor_label=row["actor_label"],
            subject_id=row["subject_id"],
            target_type=row["target_type"],
            target_id=row["target_id"],
            ip=row["ip"],
            data=row["data"],
        )
        if digest != row["hash"]:
            yield ChainProblem(
                row["seq"], str(row["id"]), "content does not match its hash (edited)"
            )
        prev_hash = row["hash"]
        expected_seq = row["seq"] + 1
    head = ChainHead.objects.filter(pk=1).first()
    if head is not None and (head.seq != expected_seq - 1 or head.hash != prev_hash):
        last = expected_seq - 1
        reason = f"head says seq={head.seq} but the last row is {last} (rows deleted at the end)"
        yield ChainProblem(None, None, reason)
