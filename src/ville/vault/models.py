"""Attributes known about a citizen, each with where it comes from and whether it was
verified, so that forms are pre-filled and nobody asks twice for a checked fact."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from ville.core.models import TimeStampedModel


class KnownAttribute(TimeStampedModel):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    citizen = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="known_attributes"
    )
    # Dotted key, e.g. "family_quotient", "child.<member id>.allergies".
    key = models.CharField(max_length=120)
    value = models.JSONField()
    # Who told us: "application:<tracking code>", "caf", "agent:<email>", "citizen".
    source = models.CharField(max_length=120)
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Set when the citizen agreed that this value be reused in other procedures.
    reuse_consented_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["key"]
        constraints = [
            models.UniqueConstraint(fields=["citizen", "key"], name="known_attribute_unique")
        ]

    def __str__(self) -> str:
        return self.key
