"""The audit trail: every row hashes its content and the previous row's hash."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

GENESIS_HASH = "0" * 64


class AuditEvent(models.Model):
    """One thing that happened, who did it, to whose data. Never updated, never deleted."""

    class Category(models.TextChoices):
        AUDIT = "audit", _("Audit")
        SECURITY = "security", _("Security")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Position in the chain, assigned under the chain lock: a gap means a deleted row.
    seq = models.BigIntegerField(unique=True)
    created_at = models.DateTimeField(db_index=True)
    category = models.CharField(max_length=10, choices=Category.choices, db_index=True)
    action = models.CharField(max_length=64, db_index=True)
    # Who acted and whose data it concerns, kept as plain values so that erasing an
    # account never rewrites (and so never breaks) the chain.
    actor_id = models.UUIDField(null=True, blank=True, db_index=True)
    actor_label = models.CharField(max_length=254, blank=True)
    subject_id = models.UUIDField(null=True, blank=True, db_index=True)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]
        indexes = [models.Index(fields=["subject_id", "seq"], name="audit_subject_seq")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action}"

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise RuntimeError("Audit events are append-only.")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise RuntimeError("Audit events are append-only.")


class ChainHead(models.Model):
    """A single row: the last sequence number and hash. Locking it serialises writers."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS_HASH)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="chain_head_single")]

    def __str__(self) -> str:
        return f"head seq={self.seq}"
