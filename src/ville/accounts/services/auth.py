"""Authentication writes: sign-up and e-mail verification, login (lockout, TOTP), logout,
password reset and change, TOTP enrolment. Pages and the JSON API both call these."""

from __future__ import annotations

import logging
import time
from functools import partial
from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import (
    authenticate,
    login,
    logout,
    password_validation,
    update_session_auth_hash,
)
from django.contrib.auth.hashers import make_password
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.translation import gettext_lazy as _
from django_otp import login as otp_login
from django_otp import verify_token as otp_verify_token
from django_otp.middleware import is_verified as otp_is_verified
from django_otp.plugins.otp_totp.models import TOTPDevice

from ville.accounts.models import User
from ville.audit import events as audit
from ville.core.errors import (
    AuthenticationFailed,
    DomainError,
    RateLimited,
    ValidationFailed,
)
from ville.core.ratelimit import client_key, ratelimit_hit

logger = logging.getLogger(__name__)

VERIFY_EMAIL_SALT = "ville.accounts.verify-email"
# A password checked, a code still to come: kept server-side in the (anonymous) session.
PENDING_LOGIN_KEY = "ville_pending_login"
PENDING_LOGIN_MAX_AGE = 5 * 60
# Fixed backend for login(): the second step runs without authenticate(), which sets it.
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


# --- Errors -----------------------------------------------------------------------------


class EmailNotVerified(AuthenticationFailed):
    code = "email_unverified"
    default_message = _(
        "Your e-mail address is not confirmed yet. Open the link we sent you, or ask for a new one."
    )


class MfaRequired(AuthenticationFailed):
    code = "mfa_required"
    default_message = _("Enter the 6-digit code shown by your authentication app.")


class MfaInvalid(AuthenticationFailed):
    code = "mfa_invalid"
    default_message = _(
        "This code is not valid. Check that your phone shows the right time and try the new code."
    )


class LoginExpired(AuthenticationFailed):
    code = "login_expired"
    default_message = _("Your login has expired. Please enter your e-mail and password again.")


class InvalidLink(DomainError):
    status = 400
    code = "invalid_link"
    default_message = _("This link is not valid. It may have been used already or be incomplete.")


class ExpiredLink(InvalidLink):
    code = "link_expired"
    default_message = _("This link has expired. Ask for a new one below.")


def lockout_minutes() -> int:
    """How long a locked account stays locked, for the messages."""
    return max(1, round(float(settings.AXES_COOLOFF_TIME or 0) * 60))


def locked_error() -> RateLimited:
    return RateLimited(
        _(
            "Too many failed attempts. For your security, logging in to this account from "
            "this device is blocked for %(minutes)d minutes."
        )
        % {"minutes": lockout_minutes()}
    )


# --- E-mail -----------------------------------------------------------------------------


def normalise_email(email: str) -> str:
    # Addresses are stored lower-case (UserManager) so lookups and axes counters agree.
    return (email or "").strip().lower()


def _absolute_url(request: HttpRequest, path: str) -> str:
    return request.build_absolute_uri(path)


def _deliver(message: EmailMultiAlternatives) -> None:
    try:
        message.send()
    except Exception:
        # The person can ask again (resend, reset); a mail server outage must not turn
        # a committed sign-up into an error page.
        logger.exception("Could not send %r to %s", message.subject, message.to)


def _send_mail(*, to: str, template: str, language: str, context: dict[str, Any]) -> None:
    """Render `accounts/email/<template>{_subject.txt,.txt,.html}` in `language` and send
    after the transaction commits."""
    with translation.override(language):
        subject = render_to_string(f"accounts/email/{template}_subject.txt", context)
        text = render_to_string(f"accounts/email/{template}.txt", context)
        html = render_to_string(f"accounts/email/{template}.html", context)
    message = EmailMultiAlternatives(subject=" ".join(subject.split()), body=text, to=[to])
    message.attach_alternative(html, "text/html")
    transaction.on_commit(partial(_deliver, message))


def user_language(user: User) -> str:
    codes = {code for code, _name in settings.LANGUAGES}
    return user.preferred_language if user.preferred_language in codes else settings.LANGUAGE_CODE


def email_verification_token(*, user: User) -> str:
    """A signed token naming the account and the address it confirms."""
    return signing.dumps({"u": str(user.pk), "e": user.email}, salt=VERIFY_EMAIL_SALT)


def _send_verification(*, request: HttpRequest, user: User, language: str) -> None:
    with translation.override(language):
        token = email_verification_token(user=user)
        path = reverse("accounts:verify_email", kwargs={"token": token})
    _send_mail(
        to=user.email,
        template="verify_email",
        language=language,
        context={
            "user": user,
            "url": _absolute_url(request, path),
            "hours": settings.EMAIL_VERIFICATION_MAX_AGE // 3600,
        },
    )


def _send_signup_attempt(*, request: HttpRequest, user: User) -> None:
    language = user_language(user)
    with translation.override(language):
        login_path = reverse("accounts:login")
        reset_path = reverse("accounts:password_reset")
    _send_mail(
        to=user.email,
        template="signup_attempt",
        language=language,
        context={
            "user": user,
            "login_url": _absolute_url(request, login_path),
            "reset_url": _absolute_url(request, reset_path),
        },
    )


# --- Sign-up and verification -------------------------------------------------------------


def user_signup(
    *,
    request: HttpRequest,
    email: str,
    first_name: str,
    last_name: str,
    password: str,
) -> User | None:
    """Create an account that can log in once its address is confirmed, and mail the link.

    If the address already has an account, nothing is created and its owner gets a mail
    instead (a new link if still unconfirmed); the caller shows the same page either way
    so that nobody learns which addresses are registered. Returns the new user or None.
    """
    ratelimit_hit(scope="signup", key=client_key(request))
    email = normalise_email(email)
    language = translation.get_language() or settings.LANGUAGE_CODE
    existing = User.objects.filter(email__iexact=email).first()
    if existing is None:
        try:
            with transaction.atomic():
                user = User.objects.create_user(
                    email=email,
                    password=password,
                    first_name=first_name.strip(),
                    last_name=last_name.strip(),
                    preferred_language=language,
                )
                audit.record_signup(request=request, user=user)
                _send_verification(request=request, user=user, language=language)
            return user
        except IntegrityError:
            # Two sign-ups raced for the same address: the other one won.
            existing = User.objects.filter(email__iexact=email).first()
            if existing is None:
                raise
    else:
        # Hash anyway: a sign-up for a known address must take as long as a real one.
        make_password(password)
    if existing.email_verified_at is None:
        _send_verification(request=request, user=existing, language=user_language(existing))
    else:
        _send_signup_attempt(request=request, user=existing)
    return None


def email_verification_resend(*, request: HttpRequest, email: str) -> None:
    """Send a new confirmation link if `email` belongs to an unconfirmed account.
    Says nothing either way."""
    ratelimit_hit(scope="verification_resend", key=client_key(request))
    user = User.objects.filter(
        email__iexact=normalise_email(email), email_verified_at__isnull=True, is_active=True
    ).first()
    if user is not None:
        _send_verification(request=request, user=user, language=user_language(user))


def email_verify(*, request: HttpRequest, token: str) -> User:
    """Confirm the address named in a signed link. Idempotent for an already confirmed one."""
    try:
        data = signing.loads(
            token, salt=VERIFY_EMAIL_SALT, max_age=settings.EMAIL_VERIFICATION_MAX_AGE
        )
    except signing.SignatureExpired as exc:
        raise ExpiredLink() from exc
    except signing.BadSignature as exc:
        raise InvalidLink() from exc
    try:
        # The address is part of the token: a link sent before an address change is void.
        user = User.objects.filter(pk=data.get("u"), email=data.get("e"), is_active=True).first()
    except (ValidationError, ValueError, AttributeError) as exc:
        raise InvalidLink() from exc
    if user is None:
        raise InvalidLink()
    if user.email_verified_at is None:
        with transaction.atomic():
            user.email_verified_at = timezone.now()
            user.save(update_fields=["email_verified_at", "updated_at"])
            audit.record_email_verified(request=request, user=user)
    return user


# --- Login -------------------------------------------------------------------------------


def mfa_device_get(*, user: User, confirmed: bool = True) -> TOTPDevice | None:
    """The person's TOTP device (one per account), confirmed or still being enrolled."""
    return (
        TOTPDevice.objects.filter(user=user, confirmed=confirmed).order_by("-id").first()
        if user.pk
        else None
    )


def _failure_reason(email: str) -> str:
    account = User.objects.filter(email=email).only("is_active").first()
    if account is None:
        return "unknown_account"
    if not account.is_active:
        return "inactive_account"
    return "bad_password"


def _check_password(*, request: HttpRequest, email: str, password: str) -> User:
    """authenticate() through django-axes, which counts failures per address and client."""
    already_locked = AxesProxyHandler.is_locked(request, credentials={"email": email})
    user = authenticate(request, email=email, password=password)
    if getattr(request, "axes_locked_out", False):
        audit.record_login_failed(
            request=request,
            email=email,
            reason="locked_out" if already_locked else _failure_reason(email),
        )
        if not already_locked:
            audit.record_lockout(request=request, email=email)
        raise locked_error()
    if user is None:
        audit.record_login_failed(request=request, email=email, reason=_failure_reason(email))
        raise AuthenticationFailed()
    return user  # type: ignore[return-value]


def _check_code(*, request: HttpRequest, user: User, device: TOTPDevice, code: str) -> None:
    # Per account, not per address: a whole town hall logs in from one address at 9:00.
    ratelimit_hit(scope="mfa_verify", key=str(user.pk))
    allowed, _info = device.verify_is_allowed()
    if not allowed:
        # django-otp doubles the wait after each wrong code (1, 2, 4… seconds).
        audit.record_mfa_failed(request=request, user=user)
        raise RateLimited(_("Too many wrong codes. Wait a moment, then try the new code."))
    # Locks the device row, so two requests cannot both spend the same code; a wrong or
    # malformed code increments django-otp's throttle.
    if otp_verify_token(user, device.persistent_id, "".join((code or "").split())) is None:
        audit.record_mfa_failed(request=request, user=user)
        raise MfaInvalid()


def _open_session(*, request: HttpRequest, user: User, device: TOTPDevice | None) -> User:
    # login() rotates the session key (no fixation) and fires axes' reset of the counters.
    login(request, user, backend=MODEL_BACKEND)
    # What OTPMiddleware gives request.user on later requests, for the rest of this one.
    user.otp_device = None  # type: ignore[attr-defined]
    user.is_verified = partial(otp_is_verified, user)  # type: ignore[attr-defined]
    if device is not None:
        otp_login(request, device)
    request.session.pop(PENDING_LOGIN_KEY, None)
    audit.record_login(request=request, user=user, method="password+totp" if device else "password")
    return user


def auth_login(*, request: HttpRequest, email: str, password: str, totp: str | None = None) -> User:
    """Log a person in with e-mail and password, plus a TOTP code when they have a device.

    Raises AuthenticationFailed (wrong credentials), EmailNotVerified, RateLimited (locked
    out by django-axes, or too many codes), MfaRequired (password right, code needed:
    the password step is remembered in the session for `auth_login_second_factor`) or
    MfaInvalid. Agents and staff without a device yet get an unverified session, which
    MfaRequiredMiddleware confines to the enrolment page.
    """
    email = normalise_email(email)
    user = _check_password(request=request, email=email, password=password)
    if user.email_verified_at is None:
        audit.record_login_failed(request=request, email=email, reason="email_unverified")
        raise EmailNotVerified()
    device = mfa_device_get(user=user)
    if device is not None:
        if not totp:
            request.session[PENDING_LOGIN_KEY] = {
                "user": str(user.pk),
                "at": int(time.time()),
                "fails": 0,
            }
            raise MfaRequired()
        _check_code(request=request, user=user, device=device, code=totp)
    return _open_session(request=request, user=user, device=device)


def auth_pending_user(*, request: HttpRequest) -> User | None:
    """The account whose password was checked in this session and awaits its code."""
    pending = request.session.get(PENDING_LOGIN_KEY)
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > PENDING_LOGIN_MAX_AGE:
        return None
    user_id = pending.get("user")
    if not isinstance(user_id, str):
        return None
    return User.objects.filter(pk=user_id, is_active=True).first()


def auth_login_second_factor(*, request: HttpRequest, totp: str) -> User:
    """Second step of a login (or of an unverified session): check the TOTP code.

    Too many wrong codes for one pending login drop it, so the password (and django-axes)
    must be passed again.
    """
    if request.user.is_authenticated:
        user: User = request.user  # type: ignore[assignment]
        device = mfa_device_get(user=user)
        if device is None:
            raise MfaRequired()
        _check_code(request=request, user=user, device=device, code=totp)
        otp_login(request, device)
        audit.record_login(request=request, user=user, method="totp")
        return user
    pending_user = auth_pending_user(request=request)
    if pending_user is None:
        request.session.pop(PENDING_LOGIN_KEY, None)
        raise LoginExpired()
    device = mfa_device_get(user=pending_user)
    if device is None:
        return _open_session(request=request, user=pending_user, device=None)
    try:
        _check_code(request=request, user=pending_user, device=device, code=totp)
    except MfaInvalid:
        pending = dict(request.session[PENDING_LOGIN_KEY])
        pending["fails"] = pending.get("fails", 0) + 1
        if pending["fails"] >= settings.AXES_FAILURE_LIMIT:
            request.session.pop(PENDING_LOGIN_KEY, None)
            raise LoginExpired(
                _("Too many wrong codes. Please enter your e-mail and password again.")
            ) from None
        request.session[PENDING_LOGIN_KEY] = pending
        raise
    return _open_session(request=request, user=pending_user, device=device)


def auth_logout(*, request: HttpRequest) -> None:
    user = request.user
    if user.is_authenticated:
        audit.record_logout(request=request, user=user)
    # Flushes the session: the OTP verification goes with it.
    logout(request)


# --- Passwords ---------------------------------------------------------------------------


def _validate_new_password(*, password: str, user: User, field: str) -> None:
    try:
        password_validation.validate_password(password, user=user)
    except ValidationError as exc:
        raise ValidationFailed(fields={field: list(exc.messages)}) from exc


def password_reset_request(*, request: HttpRequest, email: str) -> None:
    """Mail a reset link if the address has an account. The caller says the same thing
    whether or not it does."""
    ratelimit_hit(scope="password_reset", key=client_key(request))
    email = normalise_email(email)
    audit.record_password_reset_requested(request=request, email=email)
    user = User.objects.filter(email__iexact=email, is_active=True).first()
    if user is None or not user.has_usable_password():
        return
    language = user_language(user)
    with translation.override(language):
        path = reverse(
            "accounts:password_reset_confirm",
            kwargs={
                "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
                "token": default_token_generator.make_token(user),
            },
        )
    _send_mail(
        to=user.email,
        template="password_reset",
        language=language,
        context={
            "user": user,
            "url": _absolute_url(request, path),
            "hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
        },
    )


def password_reset_user(*, uidb64: str, token: str) -> User:
    """The account a reset link is for, if the link is still valid; InvalidLink otherwise."""
    try:
        pk = urlsafe_base64_decode(uidb64).decode()
        user = User.objects.filter(pk=pk, is_active=True).first()
    except (ValueError, TypeError, OverflowError, ValidationError, UnicodeDecodeError):
        user = None
    if user is None or not default_token_generator.check_token(user, token):
        raise InvalidLink()
    return user


def password_reset_complete(*, request: HttpRequest, user: User, new_password: str) -> None:
    """Set the new password. The mailbox is proved, so the address counts as confirmed and
    the lockout of this address is lifted. Other sessions end (their hash no longer matches)."""
    _validate_new_password(password=new_password, user=user, field="new_password1")
    with transaction.atomic():
        user.set_password(new_password)
        fields = ["password", "updated_at"]
        if user.email_verified_at is None:
            user.email_verified_at = timezone.now()
            fields.append("email_verified_at")
        user.save(update_fields=fields)
        audit.record_password_changed(request=request, user=user, how="reset")
    AxesProxyHandler.reset_attempts(username=user.email)


def password_change(
    *, request: HttpRequest, user: User, current_password: str, new_password: str
) -> None:
    """Change the password of the logged-in person, keeping this session open.

    The current password goes through authenticate(), so guessing it here counts towards
    the same lockout as the login form.
    """
    checked = authenticate(request, email=user.email, password=current_password)
    if getattr(request, "axes_locked_out", False):
        audit.record_login_failed(request=request, email=user.email, reason="locked_out")
        raise locked_error()
    if checked is None or checked.pk != user.pk:
        audit.record_login_failed(
            request=request, email=user.email, reason="bad_password_on_change"
        )
        message = str(_("Your current password is not correct."))
        raise ValidationFailed(fields={"old_password": [message]})
    _validate_new_password(password=new_password, user=user, field="new_password1")
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password", "updated_at"])
        audit.record_password_changed(request=request, user=user, how="change")
    update_session_auth_hash(request, user)


# --- TOTP enrolment ----------------------------------------------------------------------


def mfa_setup_start(*, user: User) -> TOTPDevice:
    """The device being enrolled (created on first call, the same secret afterwards)."""
    device = mfa_device_get(user=user, confirmed=False)
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="default", confirmed=False)
    return device


def mfa_setup_confirm(*, request: HttpRequest, user: User, code: str) -> TOTPDevice:
    """Confirm enrolment with a first code; the session counts as verified from now on."""
    if mfa_device_get(user=user) is not None:
        raise ValidationFailed(_("Two-step verification is already on for this account."))
    device = mfa_device_get(user=user, confirmed=False)
    if device is None:
        raise LoginExpired(_("The enrolment has expired. Please start again."))
    _check_code(request=request, user=user, device=device, code=code)
    with transaction.atomic():
        device.refresh_from_db()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        # Leftover half-enrolments would only confuse a later reset by an administrator.
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        audit.record_mfa_enrolled(request=request, user=user)
    otp_login(request, device)
    return device
