"""Placeholder: address search (being written)."""

from django.http import HttpRequest, HttpResponse


def address_search_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse(status=501)
