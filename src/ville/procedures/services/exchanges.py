"""Messages between the citizen and the service, with their files, and the documents an
agent verifies once so that nobody asks for them again."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from ville.audit import events as audit
from ville.core.errors import NotFound, ValidationFailed
from ville.procedures.models import DRAFT, Application, Attachment, Message
from ville.procedures.selectors import AGENT, application_role_of, as_uuid
from ville.procedures.services.common import (
    Kind,
    Role,
    event_add,
    files_check,
    files_cleanup_on_error,
)
from ville.vault.models import KnownAttribute

MAX_MESSAGE_LENGTH = 10_000
MAX_MESSAGE_FILES = 10


def message_post(
    *,
    actor: Any,
    application_id: UUID | str,
    body: str,
    files: Sequence[Any] = (),
    request: HttpRequest | None = None,
) -> Message:
    """A message from the applicant or an agent of the service, with optional files (each
    checked by content; one refusal and nothing is kept)."""
    application = (
        Application.objects.select_related("procedure", "service")
        .filter(pk=as_uuid(application_id))
        .first()
    )
    if application is None:
        raise NotFound()
    role = application_role_of(actor=actor, application=application)
    if role is None or (role == AGENT and application.state == DRAFT):
        raise NotFound()
    body = (body or "").strip()
    files = [file for file in files if file is not None]
    if not body and not files:
        raise ValidationFailed(fields={"body": [_("Please write your message.")]})
    if len(body) > MAX_MESSAGE_LENGTH:
        raise ValidationFailed(
            fields={
                "body": [
                    _("Please keep your message under %(max)d characters.")
                    % {"max": MAX_MESSAGE_LENGTH}
                ]
            }
        )
    if len(files) > MAX_MESSAGE_FILES:
        raise ValidationFailed(
            fields={
                "files": [
                    _("Please send at most %(max)d files with one message.")
                    % {"max": MAX_MESSAGE_FILES}
                ]
            }
        )
    checked, errors = files_check({"files": list(files)})
    if errors:
        raise ValidationFailed(fields=errors)
    author_role = Role.AGENT if role == AGENT else Role.CITIZEN
    with files_cleanup_on_error() as stored, transaction.atomic():
        message = Message.objects.create(
            application=application, author=actor, author_role=author_role, body=body
        )
        for item in checked:
            stored.store(application, item, actor=actor, message=message)
        event_add(
            application,
            kind=Kind.MESSAGE,
            actor=actor,
            role=author_role,
            from_state=application.state,
            to_state=application.state,
        )
    return message


def attachment_verify(
    *, actor: Any, attachment_id: UUID | str, request: HttpRequest | None = None
) -> Attachment:
    """An agent of the service checked this document. It is marked verified, and the city
    now knows `document.<field>` about the citizen, verified: later forms can reuse it
    instead of asking again."""
    attachment = (
        Attachment.objects.select_related("application__procedure", "application__citizen")
        .filter(pk=as_uuid(attachment_id))
        .first()
    )
    if attachment is None:
        raise NotFound()
    application = attachment.application
    if (
        application.state == DRAFT
        or application_role_of(actor=actor, application=application) != AGENT
    ):
        raise NotFound()
    if attachment.verified_at is not None:
        return attachment
    now = timezone.now()
    with transaction.atomic():
        updated = Attachment.objects.filter(pk=attachment.pk, verified_at__isnull=True).update(
            verified_at=now, verified_by=actor, updated_at=now
        )
        if not updated:
            # Another agent verified it at the same moment: theirs stands.
            attachment.refresh_from_db()
            return attachment
        attachment.verified_at, attachment.verified_by = now, actor
        if attachment.field_name:
            KnownAttribute.objects.update_or_create(
                citizen_id=application.citizen_id,
                key=f"document.{attachment.field_name}",
                defaults={
                    "value": {
                        "attachment": str(attachment.pk),
                        "sha256": attachment.sha256,
                        "content_type": attachment.content_type,
                        "verified_on": timezone.localdate(now).isoformat(),
                    },
                    "source": f"application:{application.tracking_code or application.pk}",
                    "verified_at": now,
                    "verified_by": actor,
                },
            )
        audit.record_attachment_verified(request=request, actor=actor, attachment=attachment)
    return attachment
