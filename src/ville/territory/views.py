"""Public page of the territory: find an address in the BAN-style table."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from ville.core.errors import ValidationFailed
from ville.territory.selectors import MAX_QUERY_LENGTH, address_search

PAGE_RESULTS = 20


@require_safe
def address_search_view(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    results = []
    error = None
    if query:
        try:
            results = address_search(query=query, limit=PAGE_RESULTS)
        except ValidationFailed as exc:
            error = str(exc.message)
    return render(
        request,
        "territory/address_search.html",
        {
            "title": _("Find an address"),
            # A huge paste is not echoed back in the page.
            "query": query[:MAX_QUERY_LENGTH],
            "searched": bool(query) and error is None,
            "results": results,
            "error": error,
            "max_length": MAX_QUERY_LENGTH,
        },
    )
