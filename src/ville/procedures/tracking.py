"""Tracking codes: 8 characters a person can read over the phone without ambiguity.

Given at submission, unique; typed back in by anyone, so normalising is forgiving of
spaces, dashes and case, and strict about anything else.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import TypeVar

from django.db import IntegrityError, transaction

from ville.procedures.models import Application

# No 0/O, 1/I/L, 2/Z, 5/S, 8/B: nothing that reads as another character.
ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
LENGTH = 8
# 25⁸ ≈ 1.5·10¹¹ codes: a collision is rare, several in a row mean something else is wrong.
ATTEMPTS = 5

T = TypeVar("T")


def tracking_code_new() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def tracking_code_normalise(text: str) -> str | None:
    """The code in `text` (upper-cased, spaces and dashes removed), or None when it cannot
    be a code. Look-alikes are not mapped: the alphabet has no 0 nor O, so a guess would
    be wrong as often as right."""
    code = "".join(ch for ch in (text or "").upper() if ch not in " -\t")
    if len(code) != LENGTH or any(ch not in ALPHABET for ch in code):
        return None
    return code


def _taken(code: str) -> bool:
    return Application.objects.filter(tracking_code=code).exists()


def with_new_tracking_code(write: Callable[[str], T], *, attempts: int = ATTEMPTS) -> T:
    """Call `write(code)` with fresh codes until one is not taken. Each try runs in a
    savepoint, so a collision does not abort the caller's transaction."""
    for attempt in range(attempts):
        code = tracking_code_new()
        try:
            with transaction.atomic():
                return write(code)
        except IntegrityError:
            if attempt == attempts - 1 or not _taken(code):
                raise
    raise AssertionError("unreachable")  # pragma: no cover
