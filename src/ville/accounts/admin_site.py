"""The staff admin site, reachable only after a TOTP check (django-otp's OTPAdminSite).

Logging in happens on the platform's own login page (lockout, audit, TOTP), never on a
second admin login form.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_otp.admin import OTPAdminSite


class VilleAdminSite(OTPAdminSite):
    site_header = _("Ville Intelligente — administration")
    site_title = _("Ville Intelligente administration")
    index_title = _("Administration")

    def login(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        next_url = request.GET.get("next") or reverse("admin:index", current_app=self.name)
        query = urlencode({"next": next_url})
        if not request.user.is_authenticated:
            return redirect(f"{reverse('accounts:login')}?{query}")
        if request.user.is_staff and not request.user.is_verified():  # type: ignore[union-attr,attr-defined]
            return redirect(f"{reverse('accounts:mfa_verify')}?{query}")
        # Logged in, but not staff: no second chance to log in as someone else here.
        raise PermissionDenied

    def logout(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        # The platform's logout records the event in the audit trail.
        return redirect("accounts:logout")


admin_site = VilleAdminSite(name="admin")
