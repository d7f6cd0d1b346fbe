"""Browser fixtures: one headless Debian Chromium per test process, axe-core injected on demand.

Pages are loaded from pytest-django's live server with their real CSP in force.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from tests.conftest import AXE_JS

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WCAG_AA_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PASSWORD = "correct-horse-battery-42"

# Records every Content-Security-Policy violation the page causes. Init scripts are
# injected by the DevTools protocol, so the page's CSP does not block this one.
CSP_RECORDER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  const where = `${event.sourceFile}:${event.lineNumber}`;
  window.__cspViolations.push(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"} (${where})`
  );
});
"""


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop marked as running in this thread for as
    # long as it lives, and Django then refuses every ORM call made from the thread (the
    # tests' own set-up, the database flush between tests). Allowed from the moment the
    # browser starts until it stops; the live server's thread is not concerned.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
            try:
                yield chromium
            finally:
                chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="session")
def axe_source() -> str:
    return AXE_JS.read_text(encoding="utf-8")


@pytest.fixture
def base_url(live_server: Any) -> str:
    # Secure cookies (the setting outside the demo) are only kept by Chromium over plain
    # HTTP for `localhost`, which counts as a secure context; 127.0.0.1 would drop them.
    url = live_server.url.replace("://127.0.0.1", "://localhost")
    assert url.startswith("http://localhost"), url
    return url


def _new_context(browser: Any, base_url: str, *, javascript: bool = True) -> Any:
    # bypass_csp stays off: the page's own scripts and styles must pass the real policy.
    context = browser.new_context(
        base_url=base_url,
        viewport={"width": 1280, "height": 900},
        locale="fr-FR",
        java_script_enabled=javascript,
        reduced_motion="reduce",
    )
    context.set_default_timeout(10_000)
    context.add_init_script(CSP_RECORDER)
    return context


@pytest.fixture
def page(browser: Any, base_url: str) -> Iterator[Any]:
    context = _new_context(browser, base_url)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def nojs_page(browser: Any, base_url: str) -> Iterator[Any]:
    context = _new_context(browser, base_url, javascript=False)
    try:
        yield context.new_page()
    finally:
        context.close()


def make_citizen(email: str = "camille.test@example.org") -> Any:
    """A verified citizen with an address and a household (partner, child at school), so
    that the pages are checked in their filled-in state, not only the empty one."""
    import datetime as dt

    from tests.factories import (
        AddressFactory,
        HouseholdFactory,
        HouseholdMemberFactory,
        SchoolFactory,
        StreetFactory,
        UserFactory,
    )
    from ville.accounts.models import HouseholdMember

    household = HouseholdFactory()
    address = AddressFactory(street=StreetFactory(name="Rue du Pérou"), number=12)
    user = UserFactory(
        email=email,
        password=PASSWORD,
        first_name="Camille",
        last_name="Testeur",
        address=address,
        household=household,
        birth_date=dt.date(1988, 3, 14),
    )
    HouseholdMemberFactory(
        household=household,
        relation=HouseholdMember.Relation.PARTNER,
        first_name="Sami",
        last_name="Testeur",
        birth_date=dt.date(1986, 9, 2),
        school=None,
    )
    HouseholdMemberFactory(
        household=household,
        first_name="Léo",
        last_name="Testeur",
        birth_date=dt.date.today().replace(year=dt.date.today().year - 8, day=1),
        school=SchoolFactory(name="École élémentaire Jean Jaurès"),
    )
    return user


@pytest.fixture
def citizen(db: None) -> Any:
    return make_citizen()


@pytest.fixture
def logged_in_page(page: Any, citizen: Any, base_url: str) -> Any:
    """`page` with the citizen's session cookie: the login form is tested on its own."""
    client = Client()
    client.force_login(citizen)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": cookie.value,
                "url": base_url,
                "httpOnly": True,
                "sameSite": "Lax",
            }
        ]
    )
    return page


def url_for(name: str, lang: str, **kwargs: Any) -> str:
    """The language-prefixed path of a named URL."""
    with translation.override(lang):
        return reverse(name, kwargs=kwargs or None)


def axe_violations(page: Any, axe_source: str, tags: list[str] | None = None) -> list[str]:
    """Run axe-core on the current page; one readable line per violation and element.

    axe is evaluated through the DevTools protocol (`page.evaluate` of the source), which
    the page's CSP does not govern, instead of `add_script_tag` (a <script> the strict
    `script-src 'self'` blocks) or `bypass_csp` (which would also switch the policy off
    for the page's own resources and hide real violations).
    """
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source)
    results = page.evaluate(
        """async (tags) => {
            const r = await axe.run(document, {
                runOnly: {type: "tag", values: tags},
                resultTypes: ["violations"],
            });
            return r.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help, url: v.helpUrl,
                nodes: v.nodes.map((n) => ({
                    target: n.target.join(" "), html: n.html, summary: n.failureSummary,
                })),
            }));
        }""",
        tags or WCAG_AA_TAGS,
    )
    lines = []
    for violation in results:
        for node in violation["nodes"]:
            summary = " ".join((node["summary"] or "").split())
            lines.append(
                f"[{violation['id']}] ({violation['impact']}) {violation['help']}\n"
                f"    target: {node['target']}\n    html: {node['html'][:200]}\n"
                f"    {summary[:400]}"
            )
    return lines


def csp_violations(page: Any) -> list[str]:
    return page.evaluate("window.__cspViolations || []")


def assert_accessible(page: Any, axe_source: str) -> None:
    violations = axe_violations(page, axe_source)
    assert not violations, (
        f"axe found {len(violations)} WCAG 2.1 A/AA violation(s) on {page.url}:\n"
        + "\n".join(violations)
    )
    blocked = csp_violations(page)
    assert not blocked, f"CSP violations on {page.url}:\n" + "\n".join(blocked)


def focused_outline(page: Any) -> dict[str, str]:
    """The computed focus indicator of the focused element."""
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            const s = getComputedStyle(el);
            return {
                tag: el.tagName.toLowerCase(), id: el.id, name: el.getAttribute("name") || "",
                text: (el.textContent || "").trim().slice(0, 60),
                href: el.getAttribute("href") || "",
                outlineStyle: s.outlineStyle, outlineWidth: s.outlineWidth, boxShadow: s.boxShadow,
            };
        }"""
    )


def has_visible_focus(style: dict[str, str]) -> bool:
    outline = style["outlineStyle"] != "none" and style["outlineWidth"] not in ("0px", "")
    return outline or style["boxShadow"] not in ("none", "")
