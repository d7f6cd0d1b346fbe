"""Public pages and machine endpoints of the core app: language prefixes, the language
switcher, error pages in both shapes, liveness and the OpenAPI document."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from ville.core import views

pytestmark = pytest.mark.django_db

LANGUAGES = [("fr", "ltr"), ("en", "ltr"), ("es", "ltr"), ("ar", "rtl"), ("pt", "ltr")]


def html_tag(response) -> str:
    match = re.search(rb"<html[^>]*>", response.content)
    assert match, "no <html> tag"
    return match.group(0).decode()


def test_root_redirects_to_the_default_language(client) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/fr/"


def test_root_follows_the_browser_language(client) -> None:
    response = client.get("/", headers={"accept-language": "ar"})
    assert response["Location"] == "/ar/"


def test_unprefixed_personal_space_redirects_to_a_prefixed_url(client) -> None:
    response = client.get("/espace/")
    assert response.status_code == 302
    assert response["Location"] == "/fr/espace/"


@pytest.mark.parametrize(("lang", "direction"), LANGUAGES)
def test_home_in_each_language(client, lang: str, direction: str) -> None:
    response = client.get(f"/{lang}/")
    assert response.status_code == 200
    tag = html_tag(response)
    assert f'lang="{lang}"' in tag
    assert f'dir="{direction}"' in tag
    content = response.content.decode()
    assert content.count("<h1") == 1
    assert 'class="skip-link" href="#main"' in content
    assert '<main id="main"' in content
    # The switcher offers every language by its own name, the current one selected.
    for code, _direction in LANGUAGES:
        assert f'value="{code}" lang="{code}"' in content
    assert f'value="{lang}" lang="{lang}" selected' in content


def test_home_marks_the_current_page_in_the_menu(client) -> None:
    content = client.get("/fr/").content.decode()
    assert re.search(r'<a href="/fr/" aria-current="page">', content)


def test_language_switcher_keeps_the_page(client) -> None:
    response = client.post("/i18n/setlang/", {"language": "ar", "next": "/fr/adresses/"})
    assert response.status_code == 302
    assert response["Location"] == "/ar/adresses/"
    assert 'dir="rtl"' in html_tag(client.get("/ar/"))


def test_language_switcher_refuses_an_outside_next_url(client) -> None:
    response = client.post(
        "/i18n/setlang/", {"language": "es", "next": "https://evil.example/phish"}
    )
    assert response.status_code == 302
    assert "evil.example" not in response["Location"]


def test_language_switcher_works_without_javascript(client) -> None:
    # A plain form: POST with a <select> and a submit button, nothing needs a script.
    content = client.get("/pt/").content.decode()
    form = re.search(r'<form class="language-switcher".*?</form>', content, re.DOTALL)
    assert form
    assert 'method="post" action="/i18n/setlang/"' in form.group(0)
    assert 'name="csrfmiddlewaretoken"' in form.group(0)
    assert 'name="next" value="/pt/"' in form.group(0)
    assert '<button type="submit">' in form.group(0)


def test_404_page_in_arabic_is_right_to_left(client) -> None:
    response = client.get("/ar/nothing-here/")
    assert response.status_code == 404
    tag = html_tag(response)
    assert 'lang="ar"' in tag
    assert 'dir="rtl"' in tag
    assert response.content.decode().count("<h1") == 1


def test_404_under_the_api_has_the_one_error_shape(client) -> None:
    response = client.get("/api/v1/nope")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {
        "error": {"code": "not_found", "message": response.json()["error"]["message"], "fields": {}}
    }
    assert response.json()["error"]["message"]


def test_404_of_an_api_route_and_of_an_unknown_api_path_share_the_code(client) -> None:
    # Ninja's own 404 handler and the project's handler404 must agree on the code.
    unknown = client.get("/api/v1/nope").json()["error"]["code"]
    assert unknown == "not_found"


def test_server_error_page_renders(rf) -> None:
    response = views.server_error(rf.get("/fr/boom/"))
    assert response.status_code == 500
    assert b"<h1>" in response.content


def test_server_error_falls_back_to_plain_text_when_the_page_fails(rf, monkeypatch) -> None:
    def broken_render(*args, **kwargs):
        raise RuntimeError("database unavailable")

    monkeypatch.setattr(views, "render", broken_render)
    response = views.server_error(rf.get("/fr/boom/"))
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/plain")
    assert response.content


def test_server_error_under_the_api_is_json(rf) -> None:
    response = views.server_error(rf.get("/api/v1/anything"))
    assert response.status_code == 500
    assert json.loads(response.content)["error"]["code"] == "server_error"


def test_healthz(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-store" in response["Cache-Control"]


def test_openapi_document(client) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert re.fullmatch(r"3\.1\.\d+", schema["openapi"])
    assert schema["info"]["title"]
    assert schema["paths"]


def test_home_is_neutral_and_has_no_external_asset(client) -> None:
    content = client.get("/fr/").content.decode()
    assert "http://" not in content
    assert "https://" not in content
    assert 'href="/static/ville/css/ville.css"' in content
    assert 'src="/static/ville/js/ville.js"' in content


@pytest.mark.django_db
def test_terms_page_is_public_and_linked_from_sign_up(client: Client) -> None:
    terms = client.get("/fr/conditions-utilisation/")
    assert terms.status_code == 200
    assert "CNIL" in terms.content.decode()
    assert 'href="/fr/conditions-utilisation/"' in client.get("/fr/inscription/").content.decode()
