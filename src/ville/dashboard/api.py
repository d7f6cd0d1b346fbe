"""`GET /api/v1/me/dashboard`: the cards of the logged-in person's space, the same ones
the page shows (both call `dashboard_build`)."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema
from ninja.security import django_auth

from ville.dashboard.selectors import dashboard_build

router = Router(tags=["dashboard"])


class ActionOut(Schema):
    label: str
    url: str


class CardOut(Schema):
    kind: str
    title: str
    status: Literal["ok", "empty", "error"]
    summary: str
    items: list[dict[str, Any]]
    empty_message: str
    actions: list[ActionOut]
    urgency: int
    data: dict[str, Any]


class DashboardOut(Schema):
    cards: list[CardOut]


@router.get("", response=DashboardOut, auth=django_auth, summary="My dashboard cards")
def dashboard_get(request: HttpRequest, response: HttpResponse) -> dict[str, Any]:
    # Personal data: never kept by a shared browser, a kiosk or a proxy.
    response["Cache-Control"] = "private, no-store"
    cards = dashboard_build(user=request.user, request=request)
    return {"cards": [card.as_dict() for card in cards]}
