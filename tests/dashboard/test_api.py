"""`GET /api/v1/me/dashboard`: the same cards as the page, one error shape."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.factories import UserFactory
from ville.dashboard.registry import Card, register_provider

pytestmark = pytest.mark.django_db

URL = "/api/v1/me/dashboard"
CARD_KEYS = {
    "kind",
    "title",
    "status",
    "summary",
    "items",
    "empty_message",
    "actions",
    "urgency",
    "data",
}
MAX_QUERIES = 8


def test_anonymous_gets_401_in_the_one_error_shape(client: Client) -> None:
    response = client.get(URL)

    assert response.status_code == 401
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == "not_authenticated"
    assert set(body["error"]) == {"code", "message", "fields"}


def test_dashboard_json_has_the_household(client: Client, family: Any) -> None:
    user, _members = family
    client.force_login(user)

    response = client.get(URL)

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    cards = response.json()["cards"]
    assert all(set(card) == CARD_KEYS for card in cards)
    by_kind = {card["kind"]: card for card in cards}
    assert {"household", "profile_completeness", "applications"} <= set(by_kind)
    household = by_kind["household"]
    assert household["status"] == "ok"
    assert [i["first_name"] for i in household["items"]] == ["Léo", "Inès", "Sami"]
    assert household["items"][0]["school"]["name"] == "École élémentaire Jean Jaurès"
    assert household["items"][0]["age_years"] == 8
    assert by_kind["applications"]["status"] == "empty"
    assert by_kind["applications"]["empty_message"] == "You have no application in progress."
    assert isinstance(by_kind["profile_completeness"]["data"]["percent"], int)


def test_api_and_page_show_the_same_cards(client: Client, family: Any) -> None:
    client.force_login(family[0])

    kinds = [card["kind"] for card in client.get(URL).json()["cards"]]
    html = client.get("/fr/espace/").content.decode()

    positions = [html.index(f'id="card-{kind}"') for kind in kinds]
    assert positions == sorted(positions)


def test_a_failing_provider_gives_an_error_card_in_the_api(
    client: Client, family: Any, restore_registry: None
) -> None:
    def broken(*, user: Any, request: Any) -> Card:
        raise KeyError("missing")

    register_provider(kind="canteen_menu", func=broken, title="Canteen menu")
    client.force_login(family[0])

    response = client.get(URL)

    assert response.status_code == 200
    by_kind = {card["kind"]: card for card in response.json()["cards"]}
    assert by_kind["canteen_menu"]["status"] == "error"
    assert by_kind["canteen_menu"]["title"] == "Canteen menu"
    assert by_kind["canteen_menu"]["summary"] == (
        "This information is temporarily unavailable. The rest of your space works normally."
    )
    assert by_kind["household"]["status"] == "ok"


def test_a_user_only_gets_their_own_household(client: Client, family: Any) -> None:
    from tests.dashboard.conftest import make_family

    stranger, theirs = make_family(first_name="Zoé", email="zoe.api@example.org")
    client.force_login(stranger)

    items = {c["kind"]: c for c in client.get(URL).json()["cards"]}["household"]["items"]

    assert {i["id"] for i in items} == {str(m.pk) for m in theirs}
    assert not {i["id"] for i in items} & {str(m.pk) for m in family[1]}


def test_api_language_follows_the_request(client: Client, family: Any) -> None:
    client.force_login(family[0])

    response = client.get(URL, headers={"accept-language": "en"})

    by_kind = {c["kind"]: c for c in response.json()["cards"]}
    assert by_kind["household"]["actions"][0]["url"].startswith("/en/")


def test_api_query_count_is_bounded(
    client: Client, family: Any, django_assert_max_num_queries: Any
) -> None:
    client.force_login(family[0])
    with django_assert_max_num_queries(MAX_QUERIES):
        assert client.get(URL).status_code == 200


def test_new_user_api_cards(client: Client) -> None:
    client.force_login(UserFactory(household=None))
    body = client.get(URL).json()["cards"]
    kinds = [c["kind"] for c in body]
    cards = {c["kind"]: c for c in body}
    # An incomplete profile is urgent: it comes before the household.
    assert kinds.index("profile_completeness") < kinds.index("household")
    assert cards["household"]["status"] == "empty"
    assert cards["profile_completeness"]["urgency"] > cards["household"]["urgency"]
