"""What an application says, made readable: the answers by step (review page, receipts) and
the PDF documents (the citizen's receipt, the decision letter) built with fpdf2."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from ville.accounts.models import HouseholdMember
from ville.procedures import workflow as wf
from ville.procedures.conditions import context_for, visible_fields
from ville.procedures.definitions import definition_of, text_in
from ville.procedures.models import DRAFT, Application, ApplicationEvent, Attachment
from ville.territory.models import Address, School

# --- readable answers ------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    name: str
    label: str
    text: str
    answered: bool


@dataclass(frozen=True)
class StepAnswers:
    step_id: str
    title: str
    answers: list[Answer]


def tracking_code_display(code: str | None) -> str:
    """ "K7MP 3QXA": groups of four are easier to read aloud and to copy."""
    code = code or ""
    return " ".join(code[i : i + 4] for i in range(0, len(code), 4))


def state_label(application: Application, *, lang: str) -> str:
    if application.state == DRAFT:
        return _("Draft")
    workflow = definition_of(application.version).workflow
    label = text_in(wf.state_info(workflow, application.state).get("label"), lang)
    return str(label) or application.state


def state_citizen_text(application: Application, *, lang: str) -> str:
    if application.state == DRAFT:
        return ""
    workflow = definition_of(application.version).workflow
    return str(text_in(wf.state_info(workflow, application.state).get("citizen_text"), lang))


def _date_text(value: Any) -> str:
    try:
        day = dt.date.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return formats.date_format(day, "DATE_FORMAT")


def _choice_label(field: Mapping[str, Any], value: Any, lang: str) -> str:
    for choice in field.get("choices") or []:
        if choice["value"] == value:
            return str(text_in(choice["label"], lang))
    return str(value)


def answer_text(
    application: Application, field: Mapping[str, Any], value: Any, *, lang: str
) -> str:
    """One answer as a person reads it: the label of a choice, a date in words, the name
    of a school or of a household member, the name of a file."""
    kind = field["type"]
    if value in (None, "", []):
        return ""
    if kind in ("yes_no", "consent"):
        return _("Yes") if value is True else _("No")
    if kind == "choice":
        return _choice_label(field, value, lang)
    if kind == "multiple_choice":
        return ", ".join(_choice_label(field, item, lang) for item in value or [])
    if kind == "date":
        return _date_text(value)
    if kind == "school":
        school = School.objects.filter(code=str(value)).first()
        return school.name if school else str(value)
    if kind == "address":
        address = Address.objects.filter(pk=value).first() if str(value).isdigit() else None
        return address.label if address else str(value)
    if kind == "household_member":
        # Only a member of the applicant's own household is ever named.
        household_id = application.citizen.household_id
        member = (
            HouseholdMember.objects.filter(pk=str(value), household_id=household_id).first()
            if household_id is not None
            else None
        )
        return f"{member.first_name} {member.last_name}" if member else ""
    if kind == "file":
        attachment = Attachment.objects.filter(pk=str(value), application=application).first()
        return attachment.original_name if attachment else ""
    if kind == "number" and isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def answers_by_step(application: Application, *, lang: str) -> list[StepAnswers]:
    """Every visible question of the application with its answer, step by step."""
    definition = definition_of(application.version)
    ctx = context_for(
        citizen=application.citizen,
        beneficiary=application.beneficiary,
        data=application.data,
        today=timezone.localdate(),
    )
    result = []
    with translation.override(lang):
        for step in definition.steps:
            answers = []
            for field in visible_fields(definition, step["id"], ctx):
                value = application.data.get(field["name"])
                text = answer_text(application, field, value, lang=lang)
                answers.append(
                    Answer(
                        name=field["name"],
                        label=str(text_in(field["label"], lang)),
                        text=text or _("Not answered"),
                        answered=bool(text),
                    )
                )
            result.append(StepAnswers(step["id"], str(text_in(step.get("title"), lang)), answers))
    return result


def service_name(application: Application, *, lang: str) -> str:
    return str(text_in(application.service.name, lang)) or application.service.code


# --- PDF -------------------------------------------------------------------------------------

# Fonts. fpdf2's core fonts (Helvetica…) need no file but only cover Latin-1. A Unicode
# TrueType font is used when the machine has one (Debian's fonts-dejavu-core is common);
# otherwise characters outside Latin-1 become "?" rather than failing. The repository
# ships no font file. Arabic needs shaping (joined letters, right to left), which fpdf2
# does only with the optional `uharfbuzz`: an Arabic document is written in French, with a
# note saying so, and the web page says it too before the download.
UNICODE_FONTS = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/truetype/freefont/FreeSans.ttf"),
    Path("/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf"),
    Path("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf"),
)
PDF_LANGUAGES = ("fr", "en", "es", "pt")


def pdf_language(lang: str) -> str:
    """The language a PDF is written in for a page in `lang` (French for Arabic)."""
    code = (lang or "fr").split("-")[0]
    return code if code in PDF_LANGUAGES else "fr"


def _unicode_font() -> Path | None:
    return next((path for path in UNICODE_FONTS if path.is_file()), None)


class _Document:
    """A plain, tagged-as-far-as-fpdf2-allows text document: title and language set in the
    metadata, real text (selectable, readable by screen readers), one column."""

    def __init__(self, *, title: str, lang: str, subject: str = "") -> None:
        from fpdf import FPDF

        self.pdf = FPDF(format="A4")
        self.pdf.set_title(title)
        if subject:
            # Searchable without a PDF reader (a file manager, a counter's document system).
            self.pdf.set_subject(subject)
        self.pdf.set_lang(lang)
        self.pdf.set_creator("Ville Intelligente")
        self.pdf.set_author("Ville Intelligente")
        self.pdf.set_auto_page_break(auto=True, margin=18)
        self.pdf.set_margins(18, 18, 18)
        font = _unicode_font()
        if font is not None:
            self.pdf.add_font("ville", "", str(font))
            self.family, self.bold, self.unicode = "ville", "", True
        else:
            self.family, self.bold, self.unicode = "helvetica", "B", False
        # French puts a space before a colon.
        self.colon = " : " if lang == "fr" else ": "
        self.pdf.add_page()

    def _clean(self, text: str) -> str:
        text = str(text).replace("\u202f", " ").replace("\u00a0", " ")
        if self.unicode:
            return text
        return text.encode("latin-1", "replace").decode("latin-1")

    def heading(self, text: str, size: int = 16) -> None:
        self.pdf.set_font(self.family, self.bold, size)
        self.pdf.multi_cell(0, size * 0.55, self._clean(text), new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(2)

    def paragraph(self, text: str, size: int = 11) -> None:
        self.pdf.set_font(self.family, "", size)
        self.pdf.multi_cell(0, 6, self._clean(text), new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(1)

    def pair(self, label: str, value: str) -> None:
        self.paragraph(f"{label}{self.colon}{value}")

    def output(self) -> bytes:
        return bytes(self.pdf.output())


def _datetime_text(moment: dt.datetime | None) -> str:
    if moment is None:
        return ""
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def _contact(document: _Document, application: Application, lang: str) -> None:
    service = application.service
    document.heading(_("Contact"), size=13)
    document.paragraph(service_name(application, lang=lang))
    if service.email:
        document.pair(_("E-mail"), service.email)
    if service.phone:
        document.pair(_("Phone"), service.phone)


def _language_note(document: _Document, lang: str) -> None:
    if pdf_language(lang) != (lang or "fr").split("-")[0]:
        document.paragraph(
            "Document en français : cette langue ne peut pas encore être imprimée "
            "dans nos PDF. / This document is in French."
        )


def receipt_pdf(application: Application, *, lang: str) -> bytes:
    """The receipt of a submitted application: code, date, answers, service contact."""
    out_lang = pdf_language(lang)
    with translation.override(out_lang):
        definition = definition_of(application.version)
        title = str(text_in(definition.title, out_lang))
        document = _Document(
            title=_("Receipt: %(title)s") % {"title": title},
            lang=out_lang,
            subject=str(application.tracking_code or ""),
        )
        _language_note(document, lang)
        document.heading(_("Receipt of your application"), size=18)
        document.paragraph(title, size=13)
        document.pair(_("Tracking code"), tracking_code_display(application.tracking_code))
        document.pair(_("Submitted on"), _datetime_text(application.submitted_at))
        document.pair(
            _("Applicant"), f"{application.citizen.first_name} {application.citizen.last_name}"
        )
        if application.beneficiary_name:
            document.pair(_("For"), application.beneficiary_name)
        document.pair(_("Status"), state_label(application, lang=out_lang))
        if application.sla_due_at:
            document.pair(
                _("The service aims to answer by"),
                formats.date_format(timezone.localdate(application.sla_due_at), "DATE_FORMAT"),
            )
        for step in answers_by_step(application, lang=out_lang):
            document.heading(step.title, size=13)
            for answer in step.answers:
                document.pair(answer.label, answer.text)
        _contact(document, application, out_lang)
        document.paragraph(
            _(
                "Keep this receipt. With the tracking code and your e-mail address, you can "
                "follow your application online or at a help point."
            ),
            size=10,
        )
        return document.output()


def _decision_comment(application: Application) -> str:
    event = (
        application.events.filter(to_state=application.state, visible_to_citizen=True)
        .exclude(kind=ApplicationEvent.Kind.MESSAGE)
        .order_by("-created_at", "-id")
        .first()
    )
    return event.comment if event else ""


def decision_letter_pdf(application: Application, *, lang: str) -> bytes:
    """The letter that gives a decision: who decided what, when, why, and what follows."""
    out_lang = pdf_language(lang)
    with translation.override(out_lang):
        definition = definition_of(application.version)
        title = str(text_in(definition.title, out_lang))
        document = _Document(
            title=_("Decision: %(title)s") % {"title": title},
            lang=out_lang,
            subject=str(application.tracking_code or ""),
        )
        _language_note(document, lang)
        document.paragraph(service_name(application, lang=out_lang))
        citizen = application.citizen
        document.paragraph(f"{citizen.first_name} {citizen.last_name}")
        if citizen.address_id:
            document.paragraph(str(citizen.address))
        document.heading(_("Decision on your application"), size=18)
        document.paragraph(title, size=13)
        document.pair(_("Tracking code"), tracking_code_display(application.tracking_code))
        document.pair(_("Submitted on"), _datetime_text(application.submitted_at))
        document.pair(_("Decided on"), _datetime_text(application.decided_at))
        if application.beneficiary_name:
            document.pair(_("For"), application.beneficiary_name)
        document.pair(_("Decision"), state_label(application, lang=out_lang))
        text = state_citizen_text(application, lang=out_lang)
        if text:
            document.paragraph(text)
        comment = _decision_comment(application)
        if comment:
            document.heading(_("Reasons"), size=13)
            document.paragraph(comment)
        if application.valid_until:
            document.pair(
                _("Valid until"), formats.date_format(application.valid_until, "DATE_FORMAT")
            )
        outcome = wf.state_outcome(definition.workflow, application.state)
        if outcome == "refused":
            document.paragraph(
                _(
                    "You may ask the service to review this decision, or appeal to the "
                    "administrative court, within two months of receiving this letter."
                )
            )
        _contact(document, application, out_lang)
        return document.output()
