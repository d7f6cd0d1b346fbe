"""The public page `/<lang>/adresses/`."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("lang", "direction"), [("fr", "ltr"), ("ar", "rtl")])
def test_page_with_results(
    client: Client, territory: dict[str, int], lang: str, direction: str
) -> None:
    response = client.get(f"/{lang}/adresses/", {"q": "12 rue du perou"})
    assert response.status_code == 200
    html = response.content.decode()
    assert f'lang="{lang}" dir="{direction}"' in html
    assert html.count("<h1>") == 1
    assert '<label for="id_q">' in html
    assert "12 Rue du Pérou, 69100 Villeurbanne" in html
    assert html.index("12 Rue du Pérou,") < html.index("14 Rue du Pérou,")


def test_empty_form(client: Client, territory: dict[str, int]) -> None:
    response = client.get("/fr/adresses/")
    assert response.status_code == 200
    assert 'class="result-list"' not in response.content.decode()


def test_no_result_escapes_the_query(client: Client, territory: dict[str, int]) -> None:
    response = client.get("/ar/adresses/", {"q": '<img src=x onerror="alert(1)">'})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
    assert 'class="result-list"' not in html


def test_too_long_query_shows_a_message(client: Client, territory: dict[str, int]) -> None:
    response = client.get("/fr/adresses/", {"q": "rue " * 1300})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="error-summary"' in html
    assert 'aria-invalid="true"' in html
    assert 'href="#id_q"' in html


def test_post_is_not_allowed(client: Client) -> None:
    assert client.post("/fr/adresses/").status_code == 405
