"""Zero WCAG 2.1 A/AA violations (axe-core in Chromium) on the pages of the personal
space, in French and in Arabic, plus the layout checks axe cannot make."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import (
    assert_accessible,
    focused_outline,
    has_visible_focus,
    url_for,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LANGS = [pytest.param("fr", id="fr"), pytest.param("ar", id="ar")]
PUBLIC_PAGES = [
    pytest.param("core:home", id="home"),
    pytest.param("accounts:login", id="login"),
    pytest.param("accounts:signup", id="signup"),
    pytest.param("accounts:password_reset", id="password-reset"),
    pytest.param("territory:address_search", id="address-search"),
    pytest.param("core:terms", id="terms"),
]
PRIVATE_PAGES = [
    pytest.param("dashboard:home", id="dashboard"),
    pytest.param("accounts:profile", id="profile"),
    pytest.param("accounts:household", id="household"),
    pytest.param("accounts:member_add", id="member-add"),
    pytest.param("accounts:password_change", id="password-change"),
    pytest.param("accounts:mfa_setup", id="mfa-setup"),
]


def open_page(page: Any, name: str, lang: str) -> None:
    path = url_for(name, lang)
    response = page.goto(path)
    assert response is not None
    assert response.status == 200, f"{path} answered {response.status}"
    assert page.url.endswith(path), f"{path} redirected to {page.url}"


def check_layout(page: Any, lang: str, axe_source: str) -> None:
    """Everything a page of the platform must pass, on the page currently open."""
    html = page.locator("html")
    assert html.get_attribute("lang") == lang
    assert html.get_attribute("dir") == ("rtl" if lang == "ar" else "ltr")
    assert page.locator("h1").count() == 1, "one <h1> per page"
    assert page.locator("main#main").count() == 1
    assert page.title().strip(" —"), "the page has a title"

    assert_accessible(page, axe_source)

    # The skip link is the first stop of the keyboard and moves focus to <main>.
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); }")
    page.evaluate("() => window.scrollTo(0, 0)")
    page.keyboard.press("Tab")
    first = focused_outline(page)
    assert first["tag"] == "a" and first["href"] == "#main", f"first Tab stop: {first}"
    assert has_visible_focus(first), f"skip link focus is invisible: {first}"
    assert page.locator(".skip-link").is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"

    # 320 CSS pixels (WCAG 1.4.10 reflow): nothing scrolls sideways.
    page.set_viewport_size({"width": 320, "height": 640})
    page.reload()
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= 320, f"horizontal scroll at 320 px: scrollWidth={scroll_width}"
    assert_accessible(page, axe_source)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name", PUBLIC_PAGES)
def test_public_page_is_accessible(page: Any, axe_source: str, name: str, lang: str) -> None:
    open_page(page, name, lang)
    check_layout(page, lang, axe_source)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name", PRIVATE_PAGES)
def test_personal_page_is_accessible(
    logged_in_page: Any, axe_source: str, name: str, lang: str
) -> None:
    open_page(logged_in_page, name, lang)
    check_layout(logged_in_page, lang, axe_source)


@pytest.mark.parametrize("lang", LANGS)
def test_not_found_page_is_accessible(page: Any, axe_source: str, lang: str) -> None:
    response = page.goto(f"/{lang}/nothing-here/")
    assert response is not None and response.status == 404
    check_layout(page, lang, axe_source)


def test_tap_targets_of_the_layout_are_at_least_44_px(logged_in_page: Any) -> None:
    page = logged_in_page
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(url_for("core:home", "fr"))
    small = page.evaluate(
        """() => [...document.querySelectorAll(
                "header a, header button, header select, footer a, main .button, main button")]
            .filter((el) => el.offsetParent !== null && !el.classList.contains("skip-link"))
            .map((el) => [el.outerHTML.slice(0, 80), el.getBoundingClientRect().height])
            .filter(([, h]) => h < 44)"""
    )
    assert not small, f"targets lower than 44 px: {small}"


def assert_errors_are_linked(page: Any) -> None:
    """Error summary on top, each invalid field marked and described by its message."""
    summary = page.locator(".error-summary")
    assert summary.count() == 1, "an error summary at the top of the form"
    assert summary.is_visible()
    for href in summary.locator("a").evaluate_all("links => links.map(a => a.hash)"):
        assert page.locator(href).count() == 1, f"summary link {href} points to nothing"
    broken = page.evaluate(
        """() => [...document.querySelectorAll('[aria-invalid="true"]')].flatMap((el) => {
            // A radio or checkbox group is described through its <fieldset>.
            const group = ["radio", "checkbox"].includes(el.type) ? el.closest("fieldset") : null;
            const describedBy = el.getAttribute("aria-describedby")
                || (group && group.getAttribute("aria-describedby")) || "";
            const ids = describedBy.split(/\\s+/).filter(Boolean);
            if (!ids.length) return [`${el.name}: no aria-describedby`];
            return ids.filter((id) => !document.getElementById(id))
                .map((id) => `${el.name}: #${id}`);
        })"""
    )
    assert not broken, f"invalid fields not described by their error: {broken}"


@pytest.mark.parametrize("lang", LANGS)
def test_login_error_is_accessible(page: Any, axe_source: str, citizen: Any, lang: str) -> None:
    open_page(page, "accounts:login", lang)
    form = page.locator("main form").filter(has=page.locator('input[type="password"]')).first
    form.locator('input[type="email"], input[name="email"]').first.fill(citizen.email)
    form.locator('input[type="password"]').first.fill("not-the-password-at-all")
    form.locator('button[type="submit"], input[type="submit"]').first.click()
    page.wait_for_load_state()
    assert page.locator(".error-summary").count() == 1, "the failure is announced"
    # Focus lands on the summary so screen readers announce the problem first.
    assert page.evaluate("document.activeElement.classList.contains('error-summary')")
    assert_errors_are_linked(page)
    assert page.locator("html").get_attribute("dir") == ("rtl" if lang == "ar" else "ltr")
    assert_accessible(page, axe_source)


@pytest.mark.parametrize("lang", LANGS)
def test_household_form_errors_are_accessible(
    logged_in_page: Any, axe_source: str, lang: str
) -> None:
    page = logged_in_page
    open_page(page, "accounts:household", lang)
    add_url = url_for("accounts:member_add", lang)
    form = page.locator(f'main form[action="{add_url}"]')
    if form.count() == 0:
        # The add-member form may live on its own page rather than inline.
        open_page(page, "accounts:member_add", lang)
        form = page.locator("main form").filter(has=page.locator("input")).first
    form = form.first
    # Switch off the browser's own checks so the server's messages are what we test.
    form.evaluate("f => { f.noValidate = true; }")
    form.locator('button[type="submit"], input[type="submit"]').first.click()
    page.wait_for_load_state()
    assert_errors_are_linked(page)
    assert page.locator('[aria-invalid="true"]').count() >= 1
    assert page.locator("h1").count() == 1
    assert_accessible(page, axe_source)
    page.set_viewport_size({"width": 320, "height": 640})
    assert page.evaluate("document.documentElement.scrollWidth") <= 320


@pytest.mark.parametrize("lang", LANGS)
def test_signup_errors_are_accessible(page: Any, axe_source: str, lang: str) -> None:
    open_page(page, "accounts:signup", lang)
    form = page.locator("main form").filter(has=page.locator('input[type="password"]')).first
    form.evaluate("f => { f.noValidate = true; }")
    form.locator('input[type="email"]').first.fill("not-an-email")
    form.locator('.actions button[type="submit"], .actions input[type="submit"]').first.click()
    page.wait_for_load_state()
    assert_errors_are_linked(page)
    assert page.locator('[aria-invalid="true"]').count() >= 2
    assert_accessible(page, axe_source)


@pytest.mark.parametrize("lang", LANGS)
def test_profile_errors_are_accessible(logged_in_page: Any, axe_source: str, lang: str) -> None:
    page = logged_in_page
    open_page(page, "accounts:profile", lang)
    page.locator('input[name="birth_date"]').fill("2099-01-01")
    page.locator('main form .actions button[type="submit"]').first.click()
    page.wait_for_load_state()
    assert_errors_are_linked(page)
    assert page.locator('input[name="birth_date"]').get_attribute("aria-invalid") == "true"
    assert_accessible(page, axe_source)
    page.set_viewport_size({"width": 320, "height": 640})
    assert page.evaluate("document.documentElement.scrollWidth") <= 320


@pytest.mark.parametrize("lang", LANGS)
def test_dashboard_with_a_failing_card_is_accessible(
    logged_in_page: Any, axe_source: str, lang: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dataclasses

    from ville.dashboard import registry

    def broken(**kwargs: Any) -> Any:
        raise RuntimeError("provider down")

    # The live server runs in a thread of this process, so it sees the patched registry.
    failing = dataclasses.replace(registry._providers["household"], func=broken)
    monkeypatch.setitem(registry._providers, "household", failing)
    open_page(logged_in_page, "dashboard:home", lang)
    assert "card-error" in (logged_in_page.locator("#card-household").get_attribute("class") or "")
    check_layout(logged_in_page, lang, axe_source)


@pytest.mark.parametrize("lang", LANGS)
def test_address_search_results_are_accessible(page: Any, axe_source: str, lang: str) -> None:
    from tests.factories import AddressFactory, StreetFactory

    street = StreetFactory(name="Rue du Pérou", search_name="rue du perou")
    for number in (1, 3, 12):
        AddressFactory(street=street, number=number)
    page.goto(url_for("territory:address_search", lang))
    page.locator("main input[type=search]").fill("rue du Pérou")
    with page.expect_navigation():
        page.locator("main input[type=search]").press("Enter")
    assert page.locator("main .result-list li").count() == 3
    check_layout(page, lang, axe_source)


def test_demo_banner_is_accessible(page: Any, axe_source: str, settings: Any) -> None:
    settings.DEMO = True
    open_page(page, "core:home", "ar")
    assert page.locator("header .demo-banner").is_visible()
    check_layout(page, "ar", axe_source)
