"""The errors of the procedures domain, each with a stable code.

The API turns them into `{"error": {"code", "message", "fields"}}`, pages into a message.
"""

from __future__ import annotations

from enum import StrEnum

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from ville.core.errors import DomainError, ValidationFailed


class ErrorCode(StrEnum):
    NOT_ELIGIBLE = "not_eligible"
    TRANSITION_NOT_ALLOWED = "transition_not_allowed"
    CONFLICT = "conflict"
    APPLICATION_CLOSED = "application_closed"
    VERSION_INVALID = "version_invalid"
    UPLOAD_TYPE = "upload_type"
    UPLOAD_SIZE = "upload_size"
    UPLOAD_EMPTY = "upload_empty"


class NotEligible(DomainError):
    """The eligibility rules of the procedure do not hold; `explanations` says why."""

    status = 422
    code = ErrorCode.NOT_ELIGIBLE
    default_message = _("This procedure is not open to you for the following reasons.")

    def __init__(self, explanations: list[str], message: str | Promise | None = None) -> None:
        self.explanations = [str(text) for text in explanations]
        super().__init__(message, fields={"eligibility": self.explanations})


class TransitionNotAllowed(DomainError):
    status = 409
    code = ErrorCode.TRANSITION_NOT_ALLOWED
    default_message = _("This action is not possible at this stage of the application.")


class Conflict(DomainError):
    """Someone changed the application since the actor loaded it (optimistic locking)."""

    status = 409
    code = ErrorCode.CONFLICT
    default_message = _(
        "Someone else changed this application a moment ago. Reload it to see their change; "
        "nothing you typed is lost."
    )


class ApplicationClosed(DomainError):
    """The application can no longer be edited this way (submitted, or decided)."""

    status = 409
    code = ErrorCode.APPLICATION_CLOSED
    default_message = _("This application has already been submitted and can no longer be edited.")


class VersionInvalid(DomainError):
    """The draft claims a version that does not belong to its procedure (forged)."""

    status = 422
    code = ErrorCode.VERSION_INVALID
    default_message = _(
        "This form does not match the procedure. Please start the application again."
    )


class UploadRejected(ValidationFailed):
    """A file refused by its content or size; `code` says which check failed."""

    code = ErrorCode.UPLOAD_TYPE
    default_message = _("This file cannot be accepted.")
