"""Pieces every application service shares: the optimistic-lock update, timeline events,
webhook payloads, stored files and JSON-safe values."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import F
from django.utils import timezone

from ville.procedures.errors import Conflict, UploadRejected
from ville.procedures.models import Application, ApplicationEvent, Attachment, Message
from ville.procedures.uploads import DetectedFile, upload_check

logger = logging.getLogger(__name__)

Role = ApplicationEvent.Role
Kind = ApplicationEvent.Kind

# Webhook event types (the `type` of the body and the `X-Ville-Event` header).
EVENT_SUBMITTED = "application.submitted"
EVENT_STATE_CHANGED = "application.state_changed"

MAX_COMMENT_LENGTH = 5000


def json_safe(value: Any) -> Any:
    """What a JSONField stores and gives back (dates as ISO strings…), so that a stored
    value compares equal to a freshly computed one."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def locked_update(application: Application, *, expected_lock_version: int, **changes: Any) -> None:
    """Write `changes` only if nobody changed the row since `expected_lock_version` was read,
    and bump the version; Conflict otherwise. The WHERE clause is the whole lock: of two
    writers holding the same version, the database lets exactly one match."""
    now = timezone.now()
    rows = Application.objects.filter(pk=application.pk, lock_version=expected_lock_version).update(
        lock_version=F("lock_version") + 1, updated_at=now, **changes
    )
    if rows != 1:
        raise Conflict()
    for name, value in changes.items():
        setattr(application, name, value)
    application.lock_version = expected_lock_version + 1
    application.updated_at = now


def event_add(
    application: Application,
    *,
    kind: str,
    actor: Any,
    role: str,
    from_state: str = "",
    to_state: str = "",
    comment: str = "",
    visible_to_citizen: bool = True,
) -> ApplicationEvent:
    return ApplicationEvent.objects.create(
        application=application,
        kind=kind,
        actor=actor,
        actor_role=role,
        from_state=from_state,
        to_state=to_state,
        comment=comment,
        visible_to_citizen=visible_to_citizen,
    )


def webhook_payload(
    application: Application, *, from_state: str, transition: str
) -> dict[str, Any]:
    """The `data` of a webhook body (docs/domains/procedures.md): what changed and the dates
    that follow from it, never the citizen's answers nor an agent's comment."""
    return {
        "from": from_state,
        "to": application.state,
        "transition": transition,
        "submitted_at": application.submitted_at,
        "decided_at": application.decided_at,
        "sla_due_at": application.sla_due_at,
        "silence_due_at": application.silence_due_at,
        "valid_until": application.valid_until,
        "channel": application.channel,
    }


def uploaded_list(files: Any, name: str) -> list[Any]:
    """Every file sent under `name`: Django's MultiValueDict, a dict of lists, or one file."""
    if hasattr(files, "getlist"):
        return [file for file in files.getlist(name) if file is not None]
    value = files.get(name)
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [file for file in value if file is not None]
    return [value]


@dataclass(frozen=True)
class CheckedFile:
    field_name: str
    file: Any
    detected: DetectedFile


def files_check(files: Mapping[str, Any] | Any) -> tuple[list[CheckedFile], dict[str, list[str]]]:
    """Check every file by content; the accepted ones, and a refusal per field otherwise."""
    checked: list[CheckedFile] = []
    errors: dict[str, list[str]] = {}
    for name in list(files.keys()) if files else []:
        for file in uploaded_list(files, name):
            try:
                checked.append(CheckedFile(str(name), file, upload_check(file)))
            except UploadRejected as exc:
                errors.setdefault(str(name), []).append(str(exc.message))
    return checked, errors


class StoredFiles:
    """Files written to storage during a service call: deleted again if the transaction
    does not commit, so a refused change leaves no orphan behind."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def store(
        self,
        application: Application,
        item: CheckedFile,
        *,
        actor: Any,
        message: Message | None = None,
    ) -> Attachment:
        original = str(getattr(item.file, "name", "") or "document").rsplit("/", 1)[-1][:255]
        attachment = Attachment(
            application=application,
            message=message,
            field_name=item.field_name[:80],
            original_name=original,
            content_type=item.detected.content_type,
            size=item.detected.size,
            sha256=item.detected.sha256,
            uploaded_by=actor,
        )
        if hasattr(item.file, "seek"):
            item.file.seek(0)
        attachment.file.save(original, item.file, save=False)
        self.names.append(str(attachment.file.name))
        attachment.save()
        return attachment


@contextmanager
def files_cleanup_on_error() -> Iterator[StoredFiles]:
    stored = StoredFiles()
    try:
        yield stored
    except BaseException:
        for name in stored.names:
            try:
                default_storage.delete(name)
            except OSError:  # pragma: no cover - a leftover file is harmless, log it
                logger.warning("could not delete the stored file %s", name)
        raise
