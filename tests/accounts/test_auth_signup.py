"""Sign-up, the confirmation e-mail and its signed link, resending it, and bad input."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.core import mail, signing
from django.test import Client
from django.urls import reverse
from django.utils import translation

from tests.factories import DEFAULT_PASSWORD, UserFactory
from ville.accounts.models import User
from ville.accounts.services import auth as services
from ville.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

SIGNUP = "/fr/inscription/"
STRONG = "lanterne-velo-perou-2026"


def _form(**overrides: Any) -> dict[str, Any]:
    data = {
        "email": "nadia.benali@example.org",
        "first_name": "Nadia",
        "last_name": "Benali",
        "password1": STRONG,
        "password2": STRONG,
        "accept_terms": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _link(message: mail.EmailMessage) -> str:
    match = re.search(r"https?://\S+", message.body)
    assert match, message.body
    return match.group(0)


def test_urls_are_the_contract() -> None:
    assert reverse("accounts:signup") == SIGNUP
    assert reverse("accounts:signup_done") == "/fr/inscription/envoyee/"


def test_page_has_labelled_fields_and_no_inline_style() -> None:
    response = Client().get(SIGNUP)
    assert response.status_code == 200
    html = response.content.decode()
    for name in ["email", "first_name", "last_name", "password1", "password2", "accept_terms"]:
        assert f'for="id_{name}"' in html
        assert f'id="id_{name}"' in html
    assert 'autocomplete="given-name"' in html
    assert 'autocomplete="new-password"' in html
    assert "style=" not in html
    assert html.count("<h1") == 1


def test_signup_creates_unverified_account_and_mails_the_link(committed: Any) -> None:
    client = Client()
    response = committed(client.post, SIGNUP, _form(email="Nadia.Benali@Example.org "))
    assert response.status_code == 302
    assert response["Location"] == "/fr/inscription/envoyee/"

    user = User.objects.get(email="nadia.benali@example.org")
    assert user.email_verified_at is None
    assert user.first_name == "Nadia"
    assert user.preferred_language == "fr"
    assert user.check_password(STRONG)
    assert STRONG not in user.password
    assert AuditEvent.objects.filter(action="signup", actor_id=user.pk).exists()

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["nadia.benali@example.org"]
    link = _link(message)
    assert "/fr/verification/" in link
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert link in html
    assert 'lang="fr"' in html

    # The "check your mailbox" page offers to resend, pre-filled.
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert 'value="nadia.benali@example.org"' in page.content.decode()


def test_mail_is_in_the_language_of_the_page(committed: Any) -> None:
    committed(Client().post, "/en/inscription/", _form())
    user = User.objects.get(email="nadia.benali@example.org")
    assert user.preferred_language == "en"
    link = _link(mail.outbox[0])
    assert "/en/verification/" in link
    assert 'lang="en"' in mail.outbox[0].alternatives[0][0]


def test_unverified_account_cannot_log_in(committed: Any) -> None:
    committed(Client().post, SIGNUP, _form())
    client = Client()
    response = client.post(
        "/fr/connexion/", {"email": "nadia.benali@example.org", "password": STRONG}
    )
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    html = response.content.decode()
    assert 'class="error-summary"' in html
    # A way to get a new link.
    assert reverse("accounts:signup_done") in html
    assert AuditEvent.objects.filter(
        action="login_failed", data__reason="email_unverified"
    ).exists()


def test_verification_link_confirms_then_login_works(committed: Any) -> None:
    committed(Client().post, SIGNUP, _form())
    link = _link(mail.outbox[0])
    client = Client()
    response = client.get(link)
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login")
    user = User.objects.get(email="nadia.benali@example.org")
    assert user.email_verified_at is not None
    assert AuditEvent.objects.filter(action="email_verified", actor_id=user.pk).count() == 1

    # Opening the link again is harmless and does not audit twice.
    assert client.get(link).status_code == 302
    assert AuditEvent.objects.filter(action="email_verified", actor_id=user.pk).count() == 1

    response = client.post(
        "/fr/connexion/", {"email": "nadia.benali@example.org", "password": STRONG}
    )
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_tampered_link_is_refused() -> None:
    user = UserFactory(email_verified_at=None)
    token = services.email_verification_token(user=user)
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    for bad in [tampered, "nonsense", "a" * 500, token + "x"]:
        response = Client().get(reverse("accounts:verify_email", kwargs={"token": bad}))
        assert response.status_code == 400
        assert reverse("accounts:signup_done") in response.content.decode()
    user.refresh_from_db()
    assert user.email_verified_at is None


def test_forged_payload_with_another_salt_is_refused() -> None:
    user = UserFactory(email_verified_at=None)
    forged = signing.dumps({"u": str(user.pk), "e": user.email}, salt="something-else")
    response = Client().get(reverse("accounts:verify_email", kwargs={"token": forged}))
    assert response.status_code == 400
    user.refresh_from_db()
    assert user.email_verified_at is None


def test_expired_link_is_refused() -> None:
    start = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        user = UserFactory(email_verified_at=None)
        token = services.email_verification_token(user=user)
    url = reverse("accounts:verify_email", kwargs={"token": token})
    max_age = dt.timedelta(seconds=settings.EMAIL_VERIFICATION_MAX_AGE)
    with time_machine.travel(start + max_age + dt.timedelta(minutes=1), tick=False):
        response = Client().get(url)
    assert response.status_code == 400
    user.refresh_from_db()
    assert user.email_verified_at is None
    # Still within the window: accepted.
    with time_machine.travel(start + max_age - dt.timedelta(minutes=1), tick=False):
        assert Client().get(url).status_code == 302
    user.refresh_from_db()
    assert user.email_verified_at is not None


def test_link_for_an_old_address_is_void() -> None:
    user = UserFactory(email_verified_at=None, email="old@example.org")
    token = services.email_verification_token(user=user)
    User.objects.filter(pk=user.pk).update(email="new@example.org")
    response = Client().get(reverse("accounts:verify_email", kwargs={"token": token}))
    assert response.status_code == 400


def test_duplicate_email_reveals_nothing_and_warns_the_owner(committed: Any) -> None:
    owner = UserFactory(email="camille@example.org", preferred_language="es")
    fresh = committed(Client().post, SIGNUP, _form(email="fresh@example.org"))
    mail.outbox.clear()
    dup = committed(Client().post, SIGNUP, _form(email="CAMILLE@example.org"))

    # Same answer as for a new address.
    assert dup.status_code == fresh.status_code == 302
    assert dup["Location"] == fresh["Location"]
    assert User.objects.filter(email__iexact="camille@example.org").count() == 1
    owner.refresh_from_db()
    assert owner.check_password(DEFAULT_PASSWORD)

    # The owner is told, in their own language, with links to log in or reset.
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["camille@example.org"]
    assert "/es/connexion/" in message.body
    assert "/es/mot-de-passe/oubli/" in message.body
    assert "/verification/" not in message.body


def test_duplicate_of_unconfirmed_account_resends_the_link(committed: Any) -> None:
    UserFactory(email="waiting@example.org", email_verified_at=None)
    committed(Client().post, SIGNUP, _form(email="waiting@example.org"))
    assert len(mail.outbox) == 1
    assert "/verification/" in mail.outbox[0].body


def test_resend_is_neutral(committed: Any) -> None:
    UserFactory(email="waiting@example.org", email_verified_at=None)
    UserFactory(email="done@example.org")
    url = reverse("accounts:signup_done")
    answers = []
    for email in ["waiting@example.org", "done@example.org", "nobody@example.org"]:
        response = committed(Client().post, url, {"email": email})
        answers.append((response.status_code, response["Location"]))
    assert len(set(answers)) == 1
    assert [m.to for m in mail.outbox] == [["waiting@example.org"]]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": "a@b"}, "email"),
        ({"email": ("x" * 300) + "@example.org"}, "email"),
        ({"first_name": "N" * 10_000}, "first_name"),
        ({"last_name": "B" * 10_000}, "last_name"),
        ({"first_name": ""}, "first_name"),
        ({"password2": STRONG + "-other"}, "password2"),
        ({"password1": "short", "password2": "short"}, "password1"),
        ({"password1": "123456789012", "password2": "123456789012"}, "password1"),
        ({"password1": "nadia.benali@example", "password2": "nadia.benali@example"}, "password1"),
        ({"accept_terms": None}, "accept_terms"),
    ],
)
def test_bad_input_gives_field_errors(overrides: dict[str, Any], field: str) -> None:
    response = Client().post(SIGNUP, _form(**overrides))
    assert response.status_code == 200
    form = response.context["form"]
    assert field in form.errors, form.errors
    html = response.content.decode()
    assert 'class="error-summary"' in html
    assert f'href="#id_{field}"' in html
    assert 'aria-invalid="true"' in html
    assert f'aria-describedby="id_{field}' in html
    assert not User.objects.exists()


def test_script_in_names_is_stored_as_text_and_escaped(committed: Any) -> None:
    script = '<script>alert("x")</script>'
    response = committed(
        Client().post, SIGNUP, _form(first_name=script, password2="mismatch-" + STRONG)
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert script not in html
    assert "&lt;script&gt;" in html

    committed(Client().post, SIGNUP, _form(first_name=script))
    user = User.objects.get()
    assert user.first_name == script
    message = mail.outbox[0]
    assert script in message.body  # plain text: no HTML escaping
    assert script not in message.alternatives[0][0]
    assert "&lt;script&gt;" in message.alternatives[0][0]


def test_messages_are_in_french_by_default() -> None:
    response = Client().post(SIGNUP, _form(email="nope"))
    assert response.status_code == 200
    assert response.wsgi_request.LANGUAGE_CODE == "fr"
    assert response.content.decode().startswith("<!doctype html>")
    assert '<html lang="fr"' in response.content.decode()


def test_signup_is_rate_limited_per_client(settings: Any, committed: Any) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "signup": (2, 3600)}
    client = Client()
    for n in range(2):
        response = committed(client.post, SIGNUP, _form(email=f"n{n}@example.org"))
        assert response.status_code == 302
    response = committed(client.post, SIGNUP, _form(email="n3@example.org"))
    assert response.status_code == 429
    assert 'class="error-summary"' in response.content.decode()
    assert not User.objects.filter(email="n3@example.org").exists()
    # Another client address is not affected.
    other = Client(REMOTE_ADDR="192.0.2.10")
    assert committed(other.post, SIGNUP, _form(email="n4@example.org")).status_code == 302


def test_resend_is_rate_limited(settings: Any) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "verification_resend": (1, 3600)}
    url = reverse("accounts:signup_done")
    client = Client()
    assert client.post(url, {"email": "a@example.org"}).status_code == 302
    assert client.post(url, {"email": "a@example.org"}).status_code == 429


def test_signup_page_in_other_language() -> None:
    with translation.override("ar"):
        url = reverse("accounts:signup")
    response = Client().get(url)
    assert response.status_code == 200
    assert 'dir="rtl"' in response.content.decode()
