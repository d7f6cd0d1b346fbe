"""Procedures and the applications (dossiers) citizens file through them.

A `Procedure` is one online entry of the catalogue; each change of its YAML definition
becomes a new `ProcedureVersion`, and an application keeps the version it was filed
under. The workflow itself is data (the definition's `workflow`), applied by services.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ville.core.models import TimeStampedModel

# States every workflow shares; the others come from each definition.
DRAFT = "draft"
WITHDRAWN = "withdrawn"


class Procedure(TimeStampedModel):
    slug = models.SlugField(max_length=80, unique=True)
    service = models.ForeignKey(
        "territory.Service", on_delete=models.PROTECT, related_name="procedures"
    )
    current_version = models.ForeignKey(
        "ProcedureVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug


class ProcedureVersion(TimeStampedModel):
    """One immutable version of a definition (the parsed, validated YAML)."""

    procedure = models.ForeignKey(Procedure, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    # sha256 of the canonical JSON of the definition: reloading an unchanged file is a no-op.
    checksum = models.CharField(max_length=64)
    definition = models.JSONField()

    class Meta:
        ordering = ["procedure__slug", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["procedure", "number"], name="procedure_version_number"
            ),
            models.UniqueConstraint(
                fields=["procedure", "checksum"], name="procedure_version_checksum"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.procedure.slug} v{self.number}"


class Application(TimeStampedModel):
    """A dossier: a draft until submitted, then it moves through its workflow."""

    class Channel(models.TextChoices):
        ONLINE = "online", _("Online")
        COUNTER = "counter", _("At the counter")
        PHONE = "phone", _("By phone")
        MAIL = "mail", _("By post")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Given at submission; 8 characters of an alphabet without 0/O, 1/I/L, 2/Z, 5/S, 8/B.
    tracking_code = models.CharField(max_length=8, unique=True, null=True, blank=True)
    procedure = models.ForeignKey(Procedure, on_delete=models.PROTECT, related_name="applications")
    version = models.ForeignKey(
        ProcedureVersion, on_delete=models.PROTECT, related_name="applications"
    )
    # Denormalised from the procedure so that an agent's queue is one indexed scan.
    service = models.ForeignKey(
        "territory.Service", on_delete=models.PROTECT, related_name="applications"
    )
    citizen = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="applications"
    )
    # The household member the application is for (a child for the canteen…), if any.
    beneficiary = models.ForeignKey(
        "accounts.HouseholdMember",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="applications",
    )
    beneficiary_name = models.CharField(max_length=300, blank=True)
    state = models.CharField(max_length=40, default=DRAFT, db_index=True)
    data = models.JSONField(default=dict, blank=True)
    # Per field: {"source": "profile.first_name", "value": original, "corrected": bool}
    provenance = models.JSONField(default=dict, blank=True)
    # Index of the first step not yet completed: where a draft resumes.
    step = models.PositiveSmallIntegerField(default=0)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.ONLINE)
    # The agent who filed it on the citizen's behalf (counter or phone), if any.
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="filed_applications",
    )
    # Idempotency of submission: a replayed submit with the same key changes nothing.
    submission_key = models.UUIDField(null=True, blank=True, unique=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    # Service-level target and, where silence means a decision, when it applies.
    sla_due_at = models.DateTimeField(null=True, blank=True)
    silence_due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_applications",
    )
    # End of validity of what was granted (a parking permit…): used for reminders.
    valid_until = models.DateField(null=True, blank=True, db_index=True)
    # Optimistic concurrency: every write checks and bumps it; the loser gets a conflict.
    lock_version = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["service", "state", "sla_due_at"], name="app_queue"),
            models.Index(fields=["citizen", "-created_at"], name="app_citizen"),
            models.Index(fields=["assigned_to", "state"], name="app_assigned"),
        ]

    def __str__(self) -> str:
        return self.tracking_code or f"draft {self.pk}"


class ApplicationEvent(models.Model):
    """One line of an application's timeline."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Draft started")
        SUBMITTED = "submitted", _("Submitted")
        TRANSITION = "transition", _("Status changed")
        INFO_REQUESTED = "info_requested", _("Information requested")
        INFO_PROVIDED = "info_provided", _("Information provided")
        MESSAGE = "message", _("Message")
        ASSIGNED = "assigned", _("Assigned")
        AUTO_DECIDED = "auto_decided", _("Decided automatically (silence)")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    class Role(models.TextChoices):
        CITIZEN = "citizen", _("Citizen")
        AGENT = "agent", _("Agent")
        SYSTEM = "system", _("System")

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="events")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    from_state = models.CharField(max_length=40, blank=True)
    to_state = models.CharField(max_length=40, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_role = models.CharField(max_length=10, choices=Role.choices)
    comment = models.TextField(blank=True)
    visible_to_citizen = models.BooleanField(default=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.from_state}→{self.to_state}"


class Message(TimeStampedModel):
    """A message between the citizen and the service, about one application."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_role = models.CharField(max_length=10, choices=ApplicationEvent.Role.choices)
    body = models.TextField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]


def attachment_path(instance: Attachment, filename: str) -> str:
    # Never the uploaded name: an unguessable path, the name is kept in `original_name`.
    return f"applications/{instance.application_id}/{uuid.uuid4().hex}"


class Attachment(TimeStampedModel):
    """A file given with an application or a message, checked by its content."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="attachments"
    )
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments"
    )
    field_name = models.CharField(max_length=80, blank=True)
    file = models.FileField(upload_to=attachment_path, max_length=200)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)  # detected from the bytes
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # An agent checked this document: nobody asks the citizen for it again.
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created_at"]


class WebhookEndpoint(TimeStampedModel):
    """A back-end system of a service that wants every state change of its applications."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    service = models.ForeignKey(
        "territory.Service", on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField(max_length=500)
    # Shared secret for the HMAC-SHA256 signature of each body.
    secret = models.CharField(max_length=128)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["service__code", "url"]

    def __str__(self) -> str:
        return self.url


class OutboxEvent(TimeStampedModel):
    """A delivery owed to one endpoint, written in the same transaction as the change.

    Its id is the idempotency key the receiver sees: retries never make a second event.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="outbox")
    application = models.ForeignKey(
        Application, null=True, on_delete=models.SET_NULL, related_name="outbox"
    )
    event_type = models.CharField(max_length=40)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outbox_due")]


class WebhookAttempt(models.Model):
    """One HTTP try of an outbox event: the delivery log admins read."""

    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="log")
    created_at = models.DateTimeField(auto_now_add=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.status_code or self.error}"
