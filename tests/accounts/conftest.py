"""Fixtures of the accounts tests: a clean rate-limit cache, mails sent on commit, TOTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.cache import caches
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    """Rate-limit counters live in the (process-wide) cache: start every test at zero."""
    for cache in caches.all():
        cache.clear()
    yield
    for cache in caches.all():
        cache.clear()


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Any) -> Callable[..., Any]:
    """Run a request and the on-commit callbacks it scheduled (the mails), as production
    does after the transaction; tests run inside one that never commits."""

    def run(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return call(*args, **kwargs)

    return run


def totp_code(device: TOTPDevice) -> str:
    """The code an authentication app would show right now (no pyotp needed)."""
    value = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    return f"{value:0{device.digits}d}"


@pytest.fixture
def make_device() -> Callable[..., TOTPDevice]:
    def make(user: Any, *, confirmed: bool = True) -> TOTPDevice:
        return TOTPDevice.objects.create(user=user, name="default", confirmed=confirmed)

    return make


def verified_client(user: Any, device: TOTPDevice) -> Client:
    """A client logged in as `user` whose session passed TOTP with `device`."""
    client = Client()
    client.force_login(user)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    return client
