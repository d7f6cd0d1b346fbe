"""`GET /api/v1/territory/addresses`: the autocomplete's data."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

URL = "/api/v1/territory/addresses"


def test_shape(client: Client, territory: dict[str, int]) -> None:
    response = client.get(URL, {"q": "12 rue du perou", "limit": 3})
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["results"]
    assert len(body["results"]) == 3
    first = body["results"][0]
    assert set(first) == {"id", "label", "postcode", "district", "lon", "lat"}
    assert first["label"] == "12 Rue du Pérou, 69100 Villeurbanne"
    assert first["postcode"] == "69100"
    assert first["district"] == "Gratte-Ciel"
    assert isinstance(first["id"], int)
    assert 4.87 < first["lon"] < 4.89 and 45.77 < first["lat"] < 45.78


def test_empty_and_unknown(client: Client, territory: dict[str, int]) -> None:
    assert client.get(URL).json() == {"results": []}
    assert client.get(URL, {"q": "zzzz"}).json() == {"results": []}


def test_too_long_query_is_a_422_in_the_error_shape(
    client: Client, territory: dict[str, int]
) -> None:
    response = client.get(URL, {"q": "x" * 5000})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    assert "q" in error["fields"]


def test_bad_limit(client: Client, territory: dict[str, int]) -> None:
    assert client.get(URL, {"q": "rue", "limit": "abc"}).status_code == 422
    assert len(client.get(URL, {"q": "rue", "limit": 500}).json()["results"]) == 50
