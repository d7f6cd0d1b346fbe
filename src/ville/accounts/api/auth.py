"""`/api/v1/auth/csrf`, `/api/v1/auth/login`, `/api/v1/auth/logout`: session login for
the mobile app, kiosks and tests, through the same service as the login page."""

from typing import Any
from uuid import UUID

from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.debug import sensitive_variables
from ninja import Field, Router, Schema, Status
from ninja.decorators import decorate_view
from ninja.utils import check_csrf

from ville.accounts.services.auth import auth_login, auth_logout
from ville.core.errors import PermissionDenied
from ville.core.schemas import ErrorOut

router = Router(tags=["auth"])


class CsrfFailed(PermissionDenied):
    code = "csrf_failed"
    default_message = _(
        "The CSRF check failed: send the token from GET /api/v1/auth/csrf in the "
        "X-CSRFToken header, with the csrftoken cookie."
    )


class CsrfOut(Schema):
    csrf_token: str


class LoginIn(Schema):
    email: str = Field(..., max_length=254)
    password: str = Field(..., max_length=4096)
    totp: str | None = Field(None, max_length=12, description="6-digit TOTP code, if enrolled")


class LoginOut(Schema):
    id: UUID
    email: str
    mfa_verified: bool


def _require_csrf(request: HttpRequest) -> None:
    # Ninja exempts its views from Django's CSRF middleware and checks only for
    # authenticated operations; login and logout set/end a session, so they check here.
    if check_csrf(request) is not None:
        raise CsrfFailed()


@router.get("/csrf", response=CsrfOut, url_name="auth_csrf", summary="Get a CSRF token")
@decorate_view(ensure_csrf_cookie)
def csrf(request: HttpRequest) -> dict[str, Any]:
    """Sets the `csrftoken` cookie. It is HttpOnly, so the token is in the body too:
    send it back in the `X-CSRFToken` header."""
    return {"csrf_token": get_token(request)}


@router.post(
    "/login",
    response={200: LoginOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    url_name="auth_login",
    summary="Log in with e-mail, password and TOTP code",
)
@sensitive_variables("payload")
def login(request: HttpRequest, payload: LoginIn) -> dict[str, Any]:
    """401 `authentication_failed`, `email_unverified`, `mfa_required` (send `totp`) or
    `mfa_invalid`; 429 `rate_limited` once locked out; 403 `csrf_failed`."""
    _require_csrf(request)
    user = auth_login(
        request=request, email=payload.email, password=payload.password, totp=payload.totp
    )
    return {"id": user.pk, "email": user.email, "mfa_verified": request.user.is_verified()}  # type: ignore[union-attr]


@router.post(
    "/logout",
    response={204: None, 403: ErrorOut},
    url_name="auth_logout",
    summary="Log out (ends the session)",
)
def logout(request: HttpRequest) -> Status[None]:
    _require_csrf(request)
    auth_logout(request=request)
    return Status(204, None)
