"""Placeholder: the personal dashboard (being written)."""

from django.http import HttpRequest, HttpResponse


def dashboard_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse(status=501)
