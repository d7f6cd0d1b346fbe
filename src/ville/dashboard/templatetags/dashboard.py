"""`{% dashboard_card card %}`: renders one card in its frame with the include of its
kind (or the generic one); a broken include costs its card, never the page."""

from __future__ import annotations

import logging

from django import template
from django.template.context import Context
from django.utils.safestring import SafeString

from ville.dashboard.registry import Card
from ville.dashboard.selectors import unavailable_message

logger = logging.getLogger(__name__)
register = template.Library()

FRAME_TEMPLATE = "dashboard/includes/card.html"
GENERIC_TEMPLATE = "dashboard/cards/generic.html"
ERROR_TEMPLATE = "dashboard/cards/error.html"


@register.simple_tag(takes_context=True)
def dashboard_card(context: Context, card: Card) -> SafeString:
    engine = context.template.engine  # type: ignore[union-attr]
    body: SafeString | None = None
    if card.status != "error":
        try:
            names = [f"dashboard/cards/{card.kind}.html", GENERIC_TEMPLATE]
            with context.push(card=card):
                body = engine.select_template(names).render(context)
        except Exception:
            logger.exception("Dashboard card %r failed to render", card.kind)
            card = Card(
                kind=card.kind, title=card.title, status="error", summary=unavailable_message()
            )
    with context.push(card=card):
        if body is None:
            body = engine.get_template(ERROR_TEMPLATE).render(context)
        with context.push(body=body):
            return engine.get_template(FRAME_TEMPLATE).render(context)
