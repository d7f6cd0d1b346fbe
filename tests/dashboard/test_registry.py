"""The provider registry: order, urgency and isolation of failing providers."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from tests.factories import UserFactory
from ville.accounts.models import User
from ville.dashboard.registry import Card, card_provider, providers, register_provider
from ville.dashboard.selectors import dashboard_build

pytestmark = pytest.mark.django_db

UNAVAILABLE = "This information is temporarily unavailable. The rest of your space works normally."


def _fixed(kind: str, urgency: int = 0) -> Any:
    def provider(*, user: Any, request: Any) -> Card:
        return Card(kind=kind, title=kind.title(), urgency=urgency)

    return provider


def test_default_order_is_order_then_registration(empty_registry: None) -> None:
    register_provider(kind="third", func=_fixed("third"), order=30)
    register_provider(kind="first", func=_fixed("first"), order=10)
    register_provider(kind="second_a", func=_fixed("second_a"), order=20)
    register_provider(kind="second_b", func=_fixed("second_b"), order=20)

    assert [p.kind for p in providers()] == ["first", "second_a", "second_b", "third"]
    cards = dashboard_build(user=UserFactory())
    assert [c.kind for c in cards] == ["first", "second_a", "second_b", "third"]


def test_urgent_cards_come_first_and_ties_keep_registration_order(empty_registry: None) -> None:
    register_provider(kind="calm", func=_fixed("calm"), order=10)
    register_provider(kind="todo_b", func=_fixed("todo_b", urgency=10), order=40)
    register_provider(kind="deadline", func=_fixed("deadline", urgency=50), order=50)
    register_provider(kind="todo_a", func=_fixed("todo_a", urgency=10), order=30)
    register_provider(kind="quiet", func=_fixed("quiet"), order=20)

    cards = dashboard_build(user=UserFactory())

    assert [c.kind for c in cards] == ["deadline", "todo_a", "todo_b", "calm", "quiet"]


def test_decorator_registers_and_returns_the_function(empty_registry: None) -> None:
    @card_provider(kind="weather", order=5)
    def weather(*, user: Any, request: Any) -> Card:
        return Card(kind="weather", title="Weather", summary="Sunny")

    assert weather(user=None, request=None).summary == "Sunny"
    assert [p.kind for p in providers()] == ["weather"]


def test_a_kind_cannot_be_claimed_twice(empty_registry: None) -> None:
    register_provider(kind="works", func=_fixed("works"))
    with pytest.raises(ImproperlyConfigured):
        register_provider(kind="works", func=_fixed("works"))


@pytest.mark.parametrize("kind", ["", "Household", "with space", "../etc", "x" * 64, "1st"])
def test_kinds_must_be_plain_identifiers(empty_registry: None, kind: str) -> None:
    with pytest.raises(ImproperlyConfigured):
        register_provider(kind=kind, func=_fixed("x"))


def test_the_real_providers_are_registered_when_the_app_loads() -> None:
    ours = ["household", "profile_completeness", "applications"]
    assert [p.kind for p in providers() if p.kind in ours] == ours


def test_a_failing_provider_becomes_an_error_card_and_is_logged(
    empty_registry: None, caplog: pytest.LogCaptureFixture
) -> None:
    register_provider(kind="before", func=_fixed("before"), order=10)

    @card_provider(kind="broken", order=20, title="Works near home")
    def broken(*, user: Any, request: Any) -> Card:
        raise RuntimeError("connector down")

    register_provider(kind="after", func=_fixed("after"), order=30)

    with caplog.at_level(logging.ERROR, logger="ville.dashboard.selectors"):
        cards = dashboard_build(user=UserFactory())

    assert [(c.kind, c.status) for c in cards] == [
        ("before", "ok"),
        ("broken", "error"),
        ("after", "ok"),
    ]
    error = cards[1]
    assert error.title == "Works near home"
    assert error.items == [] and error.actions == []
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "broken" in record.getMessage()
    assert record.exc_info is not None and record.exc_info[0] is RuntimeError


def test_the_error_message_is_in_the_users_language(empty_registry: None) -> None:
    from django.utils import translation

    register_provider(kind="broken", func=_raise)
    with translation.override("en"):
        [card] = dashboard_build(user=UserFactory())
    assert card.summary == UNAVAILABLE


def _raise(*, user: Any, request: Any) -> Card:
    raise ValueError("boom")


@pytest.mark.parametrize(
    "bad",
    [
        None,
        {"kind": "bad", "title": "Not a card"},
        Card(kind="other_kind", title="Wrong kind"),
        Card(kind="bad", title="Wrong status", status="pending"),  # type: ignore[arg-type]
        Card(kind="bad", title="Not JSON", items=[{"when": object()}]),
    ],
)
def test_malformed_cards_count_as_failures(empty_registry: None, bad: Any) -> None:
    register_provider(kind="bad", func=lambda *, user, request: bad)
    register_provider(kind="good", func=_fixed("good"))

    cards = dashboard_build(user=UserFactory())

    assert [(c.kind, c.status) for c in cards] == [("bad", "error"), ("good", "ok")]


def test_a_failed_query_does_not_poison_the_next_providers(empty_registry: None) -> None:
    # On PostgreSQL a failed statement aborts the whole transaction; each provider gets
    # a savepoint so that the next one can still read.
    def bad_sql(*, user: Any, request: Any) -> Card:
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table_for_dashboard")
        return Card(kind="bad_sql", title="never")

    def reads(*, user: Any, request: Any) -> Card:
        return Card(kind="reads", title="Reads", summary=str(User.objects.count()))

    register_provider(kind="bad_sql", func=bad_sql, order=1)
    register_provider(kind="reads", func=reads, order=2)

    cards = dashboard_build(user=UserFactory())

    assert [(c.kind, c.status) for c in cards] == [("bad_sql", "error"), ("reads", "ok")]
    assert cards[1].summary == "1"


def test_anonymous_has_no_dashboard() -> None:
    from django.contrib.auth.models import AnonymousUser

    from ville.core.errors import NotFound

    with pytest.raises(NotFound):
        dashboard_build(user=AnonymousUser())
