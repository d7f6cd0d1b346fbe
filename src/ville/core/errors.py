"""One error model for the whole platform.

Services raise a `DomainError` subclass with a stable `code`; the API handler turns it
into `{"error": {"code", "message", "fields"}}` and the page middleware into a message.
"""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    status = 400
    code = "invalid"
    default_message: str | Promise = _("The request could not be processed.")

    def __init__(
        self,
        message: str | Promise | None = None,
        *,
        code: str | None = None,
        fields: dict[str, list[str]] | None = None,
    ) -> None:
        self.message = message if message is not None else self.default_message
        if code:
            self.code = code
        self.fields = fields or {}
        super().__init__(str(self.message))

    def as_dict(self) -> dict[str, Any]:
        return {
            "error": {
                "code": self.code,
                "message": str(self.message),
                "fields": {name: [str(m) for m in msgs] for name, msgs in self.fields.items()},
            }
        }


class ValidationFailed(DomainError):
    status = 422
    code = "validation_failed"
    default_message = _("Some fields need your attention.")


class AuthenticationFailed(DomainError):
    status = 401
    code = "authentication_failed"
    default_message = _("Email or password is incorrect.")


class PermissionDenied(DomainError):
    status = 403
    code = "permission_denied"
    default_message = _("You are not allowed to do this.")


class NotFound(DomainError):
    status = 404
    code = "not_found"
    default_message = _("Not found.")


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"
    default_message = _("Too many attempts. Please wait a few minutes and try again.")


def error_body(code: str, message: str | Promise, fields: dict | None = None) -> dict[str, Any]:
    return DomainError(message, code=code, fields=fields).as_dict()
