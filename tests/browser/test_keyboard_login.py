"""Signing in with the keyboard only, from the home page to the personal space, with a
visible focus indicator at every stop; with and without JavaScript."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import PASSWORD, focused_outline, has_visible_focus, url_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MAX_TABS = 40


def tab_until(page: Any, matches: str, what: str) -> dict[str, str]:
    """Press Tab until `matches(document.activeElement)` holds; every stop shows focus."""
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        style = focused_outline(page)
        if style["tag"] != "body":
            assert has_visible_focus(style), f"no visible focus on {style}"
        if page.evaluate(f"(el => {matches})(document.activeElement)"):
            return style
    raise AssertionError(f"{what} not reached with {MAX_TABS} presses of Tab")


def sign_in_with_the_keyboard(page: Any, email: str, lang: str) -> None:
    home = url_for("core:home", lang)
    login = url_for("accounts:login", lang)
    page.goto(home)

    # First stop: the skip link; Enter moves focus into <main>.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('href')") == "#main"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"

    # From there, the first "Log in" link of the page content.
    tab_until(
        page,
        f"el.tagName === 'A' && el.closest('main') && el.pathname === '{login}'",
        "the log-in link in the page",
    )
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith(login)

    tab_until(
        page,
        "el.tagName === 'INPUT' && (el.type === 'email' || el.name === 'email')",
        "the e-mail field",
    )
    page.keyboard.type(email)
    tab_until(page, "el.tagName === 'INPUT' && el.type === 'password'", "the password field")
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")


@pytest.mark.parametrize("lang", ["fr", "ar"])
def test_sign_in_with_the_keyboard_only(page: Any, citizen: Any, lang: str) -> None:
    # After logging in the platform goes on in the person's own language.
    citizen.preferred_language = lang
    citizen.save(update_fields=["preferred_language"])
    sign_in_with_the_keyboard(page, citizen.email, lang)
    page.wait_for_load_state()
    dashboard = url_for("dashboard:home", lang)
    assert page.url.endswith(dashboard), f"landed on {page.url}"
    household = page.locator("#card-household")
    assert household.is_visible(), "the household card is on the personal space"
    assert household.locator("h2").count() == 1
    assert "Léo" in household.inner_text()


def test_sign_in_without_javascript(nojs_page: Any, citizen: Any) -> None:
    sign_in_with_the_keyboard(nojs_page, citizen.email, "fr")
    nojs_page.wait_for_load_state()
    assert nojs_page.url.endswith("/fr/espace/"), f"landed on {nojs_page.url}"
    assert nojs_page.locator("#card-household").is_visible()


def test_focus_is_visible_on_every_stop_of_the_home_page(page: Any) -> None:
    page.goto(url_for("core:home", "fr"))
    stops = []
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        style = focused_outline(page)
        if style["tag"] == "body" or (stops and style == stops[0]):
            break  # wrapped around: every focusable element was visited
        assert has_visible_focus(style), f"no visible focus on {style}"
        stops.append(style)
    assert len(stops) >= 5
