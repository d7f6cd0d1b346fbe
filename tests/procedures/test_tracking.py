"""Tracking codes: the alphabet, normalising what people type, and collisions."""

from __future__ import annotations

import pytest
from django.db import IntegrityError

from tests.procedures.world import draft_filled, submitted_application
from ville.procedures import tracking
from ville.procedures.models import Application
from ville.procedures.tracking import (
    ALPHABET,
    tracking_code_new,
    tracking_code_normalise,
    with_new_tracking_code,
)


def test_new_codes_use_only_the_unambiguous_alphabet() -> None:
    codes = {tracking_code_new() for _ in range(500)}
    assert len(codes) == 500
    for code in codes:
        assert len(code) == 8
        assert set(code) <= set(ALPHABET)
    for ambiguous in "0O1IL2Z5S8B":
        assert ambiguous not in ALPHABET


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("ACDE-FGHJ", "ACDEFGHJ"),
        (" acde fghj ", "ACDEFGHJ"),
        ("k3m4-n6p7", "K3M4N6P7"),
        ("ACDEFGH0", None),  # zero is not in the alphabet: no guess
        ("ACDEFGHO", None),
        ("ACDEFGH", None),
        ("ACDEFGHJK", None),
        ("", None),
        ("ACDE'FGH", None),
        ("ACDÉFGHJ", None),
    ],
)
def test_normalise(typed: str, expected: str | None) -> None:
    assert tracking_code_normalise(typed) == expected


@pytest.mark.django_db
def test_a_taken_code_is_drawn_again(world, monkeypatch: pytest.MonkeyPatch) -> None:
    taken = submitted_application(world)
    draws = iter([taken.tracking_code, taken.tracking_code, "KMNPQRTU"])
    monkeypatch.setattr(tracking, "tracking_code_new", lambda: next(draws))
    other = submitted_application(world, citizen=world.other)
    assert other.tracking_code == "KMNPQRTU"
    assert other.state == "submitted"


@pytest.mark.django_db
def test_gives_up_after_a_few_collisions(world, monkeypatch: pytest.MonkeyPatch) -> None:
    taken = submitted_application(world)
    monkeypatch.setattr(tracking, "tracking_code_new", lambda: taken.tracking_code)
    draft = draft_filled(world, citizen=world.other)
    with pytest.raises(IntegrityError):
        with_new_tracking_code(
            lambda code: Application.objects.filter(pk=draft.pk).update(tracking_code=code)
        )
    assert Application.objects.get(pk=draft.pk).tracking_code is None
