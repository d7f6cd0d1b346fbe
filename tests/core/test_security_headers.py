"""Security headers on every kind of response, cookie flags, and templates that keep
the Content-Security-Policy strict (no inline style, script or event handler)."""

from __future__ import annotations

import json
import re
from http.cookies import Morsel
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

pytestmark = pytest.mark.django_db

SRC = Path(__file__).resolve().parents[2] / "src"
PASSWORD = "correct-horse-battery-42"


def parse_csp(header: str) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    return directives


def assert_security_headers(response) -> None:
    csp = response.headers.get("Content-Security-Policy")
    assert csp, f"no Content-Security-Policy on {response.status_code} response"
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    directives = parse_csp(csp)
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["default-src"] == ["'self'"]
    # Scripts and styles only from our own origin: no wildcard, no data:, no CDN.
    for name in ("script-src", "style-src"):
        assert directives.get(name, directives["default-src"]) == ["'self'"], name
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'self'"]
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert response.headers.get("Referrer-Policy") in {
        "no-referrer",
        "same-origin",
        "strict-origin",
        "strict-origin-when-cross-origin",
    }
    if response.headers.get("Content-Type", "").startswith("text/html") and not (
        300 <= response.status_code < 400
    ):
        # The legacy twin of frame-ancestors, for old browsers showing our pages.
        assert response.headers.get("X-Frame-Options") == "DENY"


RESPONSES = [
    pytest.param("get", "/fr/", 200, id="home"),
    pytest.param("get", "/ar/", 200, id="home-ar"),
    pytest.param("get", "/fr/connexion/", 200, id="login-page"),
    pytest.param("get", "/api/v1/openapi.json", 200, id="api-json"),
    pytest.param("get", "/api/v1/me", 401, id="api-401"),
    pytest.param("get", "/fr/cette-page-n-existe-pas/", 404, id="404-page"),
    pytest.param("get", "/api/v1/nope", 404, id="404-api"),
    pytest.param("get", "/healthz", 200, id="healthz"),
    pytest.param("post", "/healthz", 405, id="405"),
    pytest.param("get", "/static/ville/css/ville.css", 200, id="static-css"),
    pytest.param("get", "/static/ville/img/favicon.svg", 200, id="static-svg"),
    pytest.param("get", "/", 302, id="redirect"),
    pytest.param("get", "/espace/", 302, id="redirect-prefix"),
    pytest.param("get", "/fr/espace/", 302, id="redirect-to-login"),
]


@pytest.mark.parametrize(("method", "path", "status"), RESPONSES)
def test_security_headers_on_every_kind_of_response(method, path, status, client) -> None:
    response = getattr(client, method)(path)
    assert response.status_code == status
    assert_security_headers(response)


def test_security_headers_on_a_post_with_a_bad_csrf_token() -> None:
    client = Client(enforce_csrf_checks=True)
    client.get("/fr/")
    response = client.post(
        "/fr/connexion/",
        {"csrfmiddlewaretoken": "forged", "email": "x@example.org", "password": "x"},
    )
    assert response.status_code == 403
    assert_security_headers(response)
    # The friendly page in the visitor's language, not Django's bare CSRF page.
    assert b'<html lang="fr"' in response.content
    assert b"<h1>" in response.content


def test_api_post_without_csrf_token_is_refused_with_the_error_shape() -> None:
    client = Client(enforce_csrf_checks=True)
    client.get("/api/v1/auth/csrf")
    response = client.post(
        "/api/v1/auth/login",
        {"email": "x@example.org", "password": "x"},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert_security_headers(response)
    assert set(response.json()["error"]) == {"code", "message", "fields"}


def assert_cookie_flags(cookie: Morsel) -> None:
    assert cookie["httponly"] is True, f"{cookie.key} is not HttpOnly"
    assert cookie["secure"] is True, f"{cookie.key} is not Secure"
    assert cookie["samesite"] == "Lax", f"{cookie.key} SameSite={cookie['samesite']!r}"


def test_cookie_settings_outside_the_demo() -> None:
    # tests/settings.py imports the real settings with VILLE_DEMO unset: production values.
    assert settings.DEMO is False
    assert settings.SESSION_COOKIE_SECURE and settings.CSRF_COOKIE_SECURE
    assert settings.SESSION_COOKIE_HTTPONLY and settings.CSRF_COOKIE_HTTPONLY
    assert settings.SESSION_COOKIE_SAMESITE == settings.CSRF_COOKIE_SAMESITE == "Lax"


def test_csrf_cookie_set_by_a_page_has_safe_flags(client) -> None:
    response = client.get("/fr/")
    assert_cookie_flags(response.cookies[settings.CSRF_COOKIE_NAME])


def test_language_cookie_has_safe_flags(client) -> None:
    response = client.post("/i18n/setlang/", {"language": "ar", "next": "/fr/"})
    assert_cookie_flags(response.cookies[settings.LANGUAGE_COOKIE_NAME])


def test_session_and_csrf_cookies_after_an_api_login() -> None:
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_user(
        email="cookies@example.org", password=PASSWORD, email_verified_at=timezone.now()
    )
    client = Client(enforce_csrf_checks=True)
    csrf_response = client.get("/api/v1/auth/csrf")
    assert csrf_response.status_code == 200
    assert_cookie_flags(csrf_response.cookies[settings.CSRF_COOKIE_NAME])
    token = client.cookies[settings.CSRF_COOKIE_NAME].value

    response = client.post(
        "/api/v1/auth/login",
        json.dumps({"email": "cookies@example.org", "password": PASSWORD}),
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert response.status_code == 200, response.content
    assert_security_headers(response)
    assert_cookie_flags(response.cookies[settings.SESSION_COOKIE_NAME])
    # Logging in rotates the CSRF token, and the new cookie keeps the same flags.
    assert_cookie_flags(response.cookies[settings.CSRF_COOKIE_NAME])
    assert client.get("/api/v1/me").status_code == 200


# --- Templates keep the CSP strict ----------------------------------------------------

TEMPLATES = sorted(SRC.glob("ville/**/templates/**/*.html"))
INLINE_STYLE = re.compile(r"""\sstyle\s*=|<style[\s>]""", re.IGNORECASE)
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc\s*=)[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)
JS_URL = re.compile(r"""(?:href|src|action)\s*=\s*["']?\s*javascript:""", re.IGNORECASE)
EXTERNAL_ASSET = re.compile(
    r"""(?:<script[^>]*\ssrc|<link[^>]*\shref|<img[^>]*\ssrc)\s*=\s*["']?(?:https?:)?//""",
    re.IGNORECASE,
)


def _offences(pattern: re.Pattern[str]) -> list[str]:
    found = []
    for path in TEMPLATES:
        text = path.read_text(encoding="utf-8")
        for match in pattern.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.append(f"{path.relative_to(SRC)}:{line}: {match.group(0)[:80]}")
    return found


def test_templates_are_found() -> None:
    assert any(path.name == "base.html" for path in TEMPLATES)


@pytest.mark.parametrize(
    "pattern",
    [
        pytest.param(INLINE_STYLE, id="inline-style"),
        pytest.param(INLINE_SCRIPT, id="inline-script"),
        pytest.param(EVENT_HANDLER, id="event-handler-attribute"),
        pytest.param(JS_URL, id="javascript-url"),
        pytest.param(EXTERNAL_ASSET, id="external-asset"),
    ],
)
def test_no_template_needs_an_unsafe_csp(pattern: re.Pattern[str]) -> None:
    offences = _offences(pattern)
    assert not offences, "CSP-breaking markup in templates:\n" + "\n".join(offences)


def test_the_patterns_catch_what_they_should() -> None:
    # The grep tests above only mean something if the patterns match real offences.
    assert INLINE_STYLE.search('<p style="color:red">')
    assert INLINE_STYLE.search("<style>p{}</style>")
    assert INLINE_SCRIPT.search("<script>alert(1)</script>")
    assert INLINE_SCRIPT.search('<script type="module">x()</script>')
    assert not INLINE_SCRIPT.search('<script src="/static/a.js" defer></script>')
    assert EVENT_HANDLER.search('<button onclick="x()">')
    assert not EVENT_HANDLER.search('<option value="fr">')
    assert JS_URL.search('<a href="javascript:void(0)">')
    assert EXTERNAL_ASSET.search('<script src="https://assets.example/x.js"></script>')
    assert EXTERNAL_ASSET.search('<link rel="stylesheet" href="//fonts.example/css">')
    assert not EXTERNAL_ASSET.search('<a href="https://www.service-public.fr/">')


def test_stylesheets_load_nothing_from_outside() -> None:
    offences = []
    for path in sorted(SRC.glob("ville/**/static/**/*.css")):
        text = path.read_text(encoding="utf-8")
        if re.search(r"""url\(\s*["']?(?:https?:)?//|@import""", text, re.IGNORECASE):
            offences.append(str(path.relative_to(SRC)))
    assert not offences
