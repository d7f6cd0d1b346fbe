"""Placeholder: login, sign-up, verification, password and MFA pages (being written)."""

from django.http import HttpRequest, HttpResponse


def _todo(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return HttpResponse(status=501)


login_view = logout_view = signup_view = signup_done_view = verify_email_view = _todo
password_reset_view = password_reset_confirm_view = password_change_view = _todo
mfa_setup_view = mfa_verify_view = _todo
