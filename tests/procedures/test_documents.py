"""The PDF receipt and decision letter: real PDFs, with the code, the answers and the
metadata set; Arabic falls back to French; a machine without a Unicode font still works."""

from __future__ import annotations

import datetime as dt
import re
import uuid
import zlib
from types import SimpleNamespace
from typing import Any

import pytest
import time_machine

from tests.factories import agent_of
from ville.procedures import documents, services
from ville.procedures.definitions import procedures_load
from ville.procedures.models import Application

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def _text_of(pdf: bytes) -> bytes:
    """The decompressed content streams (core fonts write text as plain strings there)."""
    out = b""
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            out += zlib.decompress(stream)
        except zlib.error:
            out += stream
    return out


@pytest.fixture
def submitted(family: SimpleNamespace) -> Application:
    procedures_load()
    with time_machine.travel(NOW, tick=False):
        citizen = family.citizen
        application = services.application_start(
            actor=citizen, procedure_slug="canteen-registration", beneficiary_id=family.leo.pk
        )
        for step_id, data in (
            (
                "child",
                {
                    "child_first_name": "Léo",
                    "child_last_name": "Martin",
                    "child_birth_date": "2017-09-20",
                    "school": "elementaire-jean-jaures",
                    "start_date": "2026-03-09",
                },
            ),
            ("meals", {"days": ["monday"], "diet": "no_pork", "has_allergy": False}),
            ("price", {}),
            ("confirm", {"accurate": True, "rules_read": True}),
        ):
            application = services.application_save_step(
                actor=citizen, application_id=application.pk, step_id=step_id, data=data
            )
        return services.application_submit(
            actor=citizen, application_id=application.pk, submission_key=uuid.uuid4()
        )


@pytest.mark.parametrize("unicode_font", [True, False])
def test_receipt_is_a_pdf_with_code_title_and_language(
    submitted: Application, monkeypatch: Any, unicode_font: bool
) -> None:
    if not unicode_font:
        monkeypatch.setattr(documents, "UNICODE_FONTS", ())
    pdf = documents.receipt_pdf(submitted, lang="en")
    assert pdf.startswith(b"%PDF")
    code = submitted.tracking_code.encode()
    assert code in pdf  # the subject in the metadata
    assert b"/Lang (en)" in pdf or b"/Lang (en-" in pdf
    assert b"School canteen registration" in pdf  # the title in the metadata
    if not unicode_font:
        body = _text_of(pdf)
        assert code[:4] + b" " + code[4:] in body
        assert b"Menu without pork" in body


def test_arabic_documents_are_written_in_french(submitted: Application) -> None:
    pdf = documents.receipt_pdf(submitted, lang="ar")
    assert pdf.startswith(b"%PDF")
    assert b"/Lang (fr)" in pdf
    assert documents.pdf_language("ar") == "fr"
    assert documents.pdf_language("pt") == "pt"


def test_decision_letter_names_the_decision(submitted: Application, monkeypatch: Any) -> None:
    monkeypatch.setattr(documents, "UNICODE_FONTS", ())
    agent = agent_of(submitted.service)
    decided = services.application_transition(
        actor=agent,
        application_id=submitted.pk,
        transition="accept",
        expected_lock_version=submitted.lock_version,
    )
    pdf = documents.decision_letter_pdf(decided, lang="fr")
    assert pdf.startswith(b"%PDF")
    body = _text_of(pdf)
    assert "Inscription validée".encode("latin-1") in body
    assert submitted.tracking_code.encode() in pdf


def test_answers_are_readable(submitted: Application) -> None:
    steps = documents.answers_by_step(submitted, lang="en")
    answers = {answer.name: answer.text for step in steps for answer in step.answers}
    assert answers["diet"] == "Menu without pork"
    assert answers["days"] == "Monday"
    assert answers["has_allergy"] == "No"
    assert "allergy_details" not in answers  # hidden by the answer before it
    assert answers["school"].startswith("École") or "Jean" in answers["school"]
    assert documents.tracking_code_display("K7MP3QXA") == "K7MP 3QXA"
