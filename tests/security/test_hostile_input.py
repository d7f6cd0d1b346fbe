"""Bad input never gives a 500: every form and JSON endpoint gets hostile values.

Each text field receives, one at a time, values that have broken real systems: 10 kB
strings, markup, NUL bytes (PostgreSQL refuses them in text), right-to-left overrides,
SQL, absurd dates and numbers, and JSON values of the wrong type. The answer must be a
4xx with a message, or a success, never a server error, and markup never comes back raw in a page.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
HOSTILE_TEXT = [
    "",
    " " * 3,
    "x" * 10_240,
    SCRIPT,
    '"><img src=x onerror=alert(1)>',
    "nul\x00byte",
    "\u202egnp.exe",
    "Robert'); DROP TABLE accounts_user;--",
    "😀" * 200,
    "9999-99-99",
    "0000-00-00",
    "-1",
    "1e309",
]
HOSTILE_JSON: list[Any] = [*HOSTILE_TEXT, None, 0, -1, 2**70, 1.5, [], {}, True]

# Pages with a form: (url, fields, extra fields that make the rest of the form plausible).
ANONYMOUS_FORMS = [
    (
        "/fr/inscription/",
        ["email", "first_name", "last_name", "password1", "password2"],
        {"accept_terms": "on", "password1": "a-long-passphrase-2026", "password2": "x"},
    ),
    ("/fr/connexion/", ["email", "password"], {}),
    ("/fr/mot-de-passe/oubli/", ["email"], {}),
]
CITIZEN_FORMS = [
    (
        "/fr/profil/",
        ["first_name", "last_name", "birth_date", "phone", "preferred_language", "address"],
        {"first_name": "Ana", "last_name": "Lima", "preferred_language": "fr"},
    ),
    ("/fr/profil/", ["address_query"], {"address_search": "1"}),
    (
        "/fr/foyer/membre/ajouter/",
        ["relation", "first_name", "last_name", "birth_date", "school"],
        {"relation": "child", "first_name": "Léo", "last_name": "Lima", "birth_date": "2018-05-02"},
    ),
]
SEARCH_PAGES = ["/fr/adresses/", "/api/v1/territory/addresses"]
JSON_ENDPOINTS = [
    ("post", "/api/v1/auth/login", {"email": "a@example.org", "password": "x"}),
    ("patch", "/api/v1/me", {"first_name": "Ana"}),
    (
        "post",
        "/api/v1/me/household",
        {"relation": "child", "first_name": "A", "last_name": "B", "birth_date": "2019-01-01"},
    ),
]


def _assert_handled(response: Any, label: str) -> None:
    assert response.status_code < 500, f"{label}: server error {response.status_code}"
    if response.get("Content-Type", "").startswith("text/html"):
        # JSON may carry the text back as data; an HTML page must escape it.
        body = response.content.decode(errors="replace")
        assert SCRIPT not in body, f"{label}: markup echoed unescaped"


@pytest.fixture
def citizen_client(client: Client) -> Client:
    client.force_login(UserFactory())
    return client


@pytest.mark.parametrize(("url", "fields", "base"), ANONYMOUS_FORMS)
def test_anonymous_forms_survive_hostile_values(
    client: Client, url: str, fields: list[str], base: dict[str, str]
) -> None:
    for field in fields:
        for value in HOSTILE_TEXT:
            response = client.post(url, {**base, field: value})
            _assert_handled(response, f"POST {url} {field}={value[:20]!r}")


@pytest.mark.parametrize(("url", "fields", "base"), CITIZEN_FORMS)
def test_citizen_forms_survive_hostile_values(
    citizen_client: Client, url: str, fields: list[str], base: dict[str, str]
) -> None:
    for field in fields:
        for value in HOSTILE_TEXT:
            response = citizen_client.post(url, {**base, field: value})
            _assert_handled(response, f"POST {url} {field}={value[:20]!r}")


@pytest.mark.parametrize("url", SEARCH_PAGES)
def test_search_survives_hostile_queries(client: Client, url: str) -> None:
    for value in HOSTILE_TEXT:
        _assert_handled(client.get(url, {"q": value}), f"GET {url} q={value[:20]!r}")
        _assert_handled(client.get(url, {"q": value, "limit": value}), f"GET {url} limit")


@pytest.mark.parametrize("url", ["/fr/connexion/", "/fr/inscription/", "/fr/securite/code/"])
def test_next_parameter_survives_hostile_values(client: Client, url: str) -> None:
    for value in [*HOSTILE_TEXT, "https://evil.example/", "//evil.example", "javascript:alert(1)"]:
        response = client.get(url, {"next": value})
        _assert_handled(response, f"GET {url} next={value[:20]!r}")
        assert "evil.example" not in response.get("Location", "")


@pytest.mark.parametrize(("method", "url", "base"), JSON_ENDPOINTS)
def test_json_endpoints_survive_hostile_values(
    citizen_client: Client, method: str, url: str, base: dict[str, Any]
) -> None:
    send = getattr(citizen_client, method)
    for field in base:
        for value in HOSTILE_JSON:
            payload = json.dumps({**base, field: value})
            response = send(url, payload, content_type="application/json")
            _assert_handled(response, f"{method.upper()} {url} {field}={str(value)[:20]!r}")
            if response.status_code >= 400:
                assert "error" in response.json(), f"{url}: not the one error shape"
    for raw in ["", "not json", "[]", "null", '{"a":', "\x00"]:
        response = send(url, raw, content_type="application/json")
        _assert_handled(response, f"{method.upper()} {url} body={raw!r}")
