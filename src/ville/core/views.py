"""Public home, liveness probe and the error pages.

Errors under `/api/` answer in the one JSON error shape; elsewhere as a page in the
visitor's language.
"""

from __future__ import annotations

import logging

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ville.core.errors import error_body

logger = logging.getLogger(__name__)


def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "core/home.html",
        {"title": _("Online services of the commune and the metropolis")},
    )


def terms(request: HttpRequest) -> HttpResponse:
    return render(request, "core/terms.html", {"title": _("Terms of use and personal data")})


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def _error(request: HttpRequest, status: int, code: str, title: str, detail: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(code, title), status=status)
    return render(request, "core/error.html", {"title": title, "detail": detail}, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(
        request, 400, "bad_request", _("Bad request"), _("The request could not be understood.")
    )


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(
        request,
        403,
        "permission_denied",
        _("Access denied"),
        _("You are not allowed to see this page."),
    )


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(
        request, 404, "not_found", _("Page not found"), _("This page does not exist or has moved.")
    )


def server_error(request: HttpRequest) -> HttpResponse:
    title = _("Something went wrong")
    detail = _("The error has been recorded. Please try again in a few minutes.")
    try:
        return _error(request, 500, "server_error", title, detail)
    except Exception:
        # The page itself may need what just failed (the database for the session, a
        # template): answer in plain text rather than let the error handler fail too.
        logger.exception("The error page could not be rendered")
        return HttpResponse(f"{title}. {detail}", status=500, content_type="text/plain")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return _error(
        request,
        403,
        "csrf_failed",
        _("Your session has expired"),
        _("For your security the form expired. Go back, reload the page and send it again."),
    )
