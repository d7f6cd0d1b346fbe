"""The personal space page `/<lang>/espace/`: the logged-in person's cards."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from ville.dashboard.selectors import dashboard_build


@require_safe
# Personal data: never kept by a shared browser, a kiosk or a proxy.
@never_cache
@login_required
def dashboard_view(request: HttpRequest) -> HttpResponse:
    cards = dashboard_build(user=request.user, request=request)
    return render(request, "dashboard/home.html", {"title": _("My space"), "cards": cards})
