"""The card registry of the personal space: any app registers a provider function that
returns one `Card` for the logged-in person; the dashboard knows nothing about domains."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.utils.functional import Promise

CardStatus = Literal["ok", "empty", "error"]
CARD_STATUSES: frozenset[str] = frozenset({"ok", "empty", "error"})

# Urgency scale shared by every provider, so that cards of different domains compare:
# 0 is information only; raise it when the citizen has something to do, and more when
# a deadline is near.
URGENCY_NONE = 0
URGENCY_TODO = 10
URGENCY_DEADLINE = 50

# A kind names a template (`dashboard/cards/<kind>.html`) and an HTML id: keep it plain.
_KIND_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


@dataclass(slots=True)
class Card:
    """What one provider shows. Everything in it is JSON-serialisable; strings are
    already translated into the active language."""

    kind: str
    title: str
    status: CardStatus = "ok"
    items: list[dict[str, Any]] = field(default_factory=list)
    summary: str = ""
    empty_message: str = ""
    actions: list[dict[str, str]] = field(default_factory=list)
    urgency: int = URGENCY_NONE
    # Kind-specific scalars for clients that draw their own widget (e.g. a percentage).
    data: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class CardProviderFunc(Protocol):
    def __call__(self, *, user: Any, request: HttpRequest | None) -> Card: ...


@dataclass(frozen=True, slots=True)
class Provider:
    kind: str
    order: int
    sequence: int  # registration order, the last tie-breaker
    func: CardProviderFunc
    # Shown as the heading of the error card when the provider itself fails.
    title: str | Promise | None = None


_providers: dict[str, Provider] = {}
_sequence = 0


def card_provider(
    *, kind: str, order: int = 100, title: str | Promise | None = None
) -> Callable[[CardProviderFunc], CardProviderFunc]:
    """Register the decorated function as the provider of the cards of `kind`.

    `order` places the card among cards of equal urgency (lower first); `title` (lazy
    translation) heads the error card if the provider raises. Another app registers its
    card from a `providers.py` imported in its `AppConfig.ready()`:

        @card_provider(kind="works_nearby", order=40, title=gettext_lazy("Works near me"))
        def works_nearby_card(*, user, request) -> Card:
            works = works_near_for(actor=user, user=user)  # one query, whatever the count
            return Card(kind="works_nearby", title=_("Works near me"),
                        items=[{"label": w.title, "url": w.url} for w in works],
                        status="ok" if works else "empty",
                        empty_message=_("No works near your home."))

    Items with a "label" (and optionally a "url") render without any template; a
    template `dashboard/cards/<kind>.html` in the app renders them its own way.
    """

    def decorator(func: CardProviderFunc) -> CardProviderFunc:
        register_provider(kind=kind, func=func, order=order, title=title)
        return func

    return decorator


def register_provider(
    *, kind: str, func: CardProviderFunc, order: int = 100, title: str | Promise | None = None
) -> Provider:
    global _sequence
    if not _KIND_RE.match(kind):
        raise ImproperlyConfigured(f"Dashboard card kind {kind!r} must match {_KIND_RE.pattern}")
    existing = _providers.get(kind)
    if existing is not None and existing.func is not func:
        # Two apps claiming one kind would silently hide a card: fail at start-up instead.
        raise ImproperlyConfigured(f"Dashboard card kind {kind!r} is already registered")
    if existing is not None:
        return existing
    _sequence += 1
    provider = Provider(kind=kind, order=order, sequence=_sequence, func=func, title=title)
    _providers[kind] = provider
    return provider


def unregister_provider(kind: str) -> None:
    """Remove a provider (tests, and apps that switch a card off by configuration)."""
    _providers.pop(kind, None)


def providers() -> list[Provider]:
    """The registered providers in their default order (before urgency is known)."""
    return sorted(_providers.values(), key=lambda p: (p.order, p.sequence))
