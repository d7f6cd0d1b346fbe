"""Agents, helpers and administrators cannot use the platform before passing TOTP.

A logged-in account that must use two-step verification but has not passed it in this
session reaches only the enrolment and code pages, logout and the auth API.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from ville.core.errors import error_body

# Pages an MFA-bound account may still reach before verifying: enrolment, check, logout.
MFA_EXEMPT_VIEW_NAMES = {
    "accounts:mfa_setup",
    "accounts:mfa_verify",
    "accounts:logout",
    "set_language",
    "healthz",
}
# The login/logout API must answer such a session too (to log out, or in as someone else).
MFA_EXEMPT_PREFIXES = ("/static/", "/api/v1/auth/")


class MfaRequiredMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable, view_args: tuple, view_kwargs: dict
    ) -> HttpResponse | None:
        user = request.user
        # Cheapest checks first: requires_mfa costs two queries, only for unverified sessions.
        if not user.is_authenticated or user.is_verified() or not user.requires_mfa:  # type: ignore[union-attr,attr-defined]
            return None
        match = request.resolver_match
        if match is not None and match.view_name in MFA_EXEMPT_VIEW_NAMES:
            return None
        if request.path.startswith(MFA_EXEMPT_PREFIXES):
            return None
        if request.path.startswith("/api/"):
            return JsonResponse(
                error_body("mfa_required", _("A one-time code is required for this account.")),
                status=403,
            )
        query = urlencode({"next": request.get_full_path()})
        return redirect(f"{reverse('accounts:mfa_verify')}?{query}")
