"""Reads for the personal space: build every card of the logged-in person, one provider
at a time, so that a failing domain costs one card and never the page or the API."""

from __future__ import annotations

import json
import logging
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from ville.core.errors import NotFound
from ville.dashboard.registry import CARD_STATUSES, Card, Provider, providers

logger = logging.getLogger(__name__)


def dashboard_build(*, user: Any, request: HttpRequest | None = None) -> list[Card]:
    """The cards of `user`'s own space, most urgent first, then in registration order."""
    if user is None or not user.is_authenticated:
        raise NotFound()
    built: list[tuple[Card, Provider]] = []
    with _RollbackPoint(DEFAULT_DB_ALIAS) as rollback_point:
        for provider in providers():
            built.append((_card_from(provider, user, request, rollback_point), provider))
    built.sort(key=lambda pair: (-pair[0].urgency, pair[1].order, pair[1].sequence))
    return [card for card, _provider in built]


def _card_from(
    provider: Provider, user: Any, request: HttpRequest | None, rollback_point: _RollbackPoint
) -> Card:
    try:
        card = provider.func(user=user, request=request)
        _check(card, provider)
    except Exception:
        rollback_point.rollback()
        # The traceback goes to the logs; the person only sees a polite card.
        logger.exception(
            "Dashboard provider %r failed for user %s", provider.kind, getattr(user, "pk", None)
        )
        return error_card(provider)
    return card


class _RollbackPoint:
    """Inside a transaction (ATOMIC_REQUESTS, tests) a failed query aborts it on
    PostgreSQL and the next providers could not read. One savepoint for the whole
    dashboard, rolled back to after a failure, keeps them working; providers only read,
    so nothing else is undone. In autocommit mode a failed query harms nobody: no cost."""

    def __init__(self, using: str) -> None:
        self.using = using
        self.sid: str | None = None

    def __enter__(self) -> _RollbackPoint:
        connection = connections[self.using]
        if connection.in_atomic_block and not connection.needs_rollback:
            self.sid = transaction.savepoint(using=self.using)
        return self

    def rollback(self) -> None:
        if self.sid is not None:
            # The savepoint survives ROLLBACK TO on PostgreSQL and SQLite: reuse it.
            transaction.savepoint_rollback(self.sid, using=self.using)
            transaction.set_rollback(False, using=self.using)

    def __exit__(self, *exc_info: object) -> None:
        if self.sid is not None:
            transaction.savepoint_commit(self.sid, using=self.using)


def error_card(provider: Provider) -> Card:
    return Card(
        kind=provider.kind,
        title=str(provider.title) if provider.title else _("Information"),
        status="error",
        summary=unavailable_message(),
    )


def unavailable_message() -> str:
    return _("This information is temporarily unavailable. The rest of your space works normally.")


def _check(card: object, provider: Provider) -> None:
    # A malformed card would break the API schema or the template: treat it as a failure
    # of its provider rather than of the whole space.
    if not isinstance(card, Card):
        raise TypeError(f"provider {provider.kind!r} returned {type(card).__name__}, not Card")
    if card.kind != provider.kind:
        raise ValueError(f"provider {provider.kind!r} returned a card of kind {card.kind!r}")
    if card.status not in CARD_STATUSES:
        raise ValueError(f"provider {provider.kind!r} returned status {card.status!r}")
    card.title = str(card.title)
    card.summary = str(card.summary)
    card.empty_message = str(card.empty_message)
    card.actions = [{"label": str(a["label"]), "url": str(a["url"])} for a in card.actions]
    json.dumps([card.items, card.actions, card.data])
