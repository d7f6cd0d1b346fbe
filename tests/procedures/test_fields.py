"""Step forms: every field type with good and bad values gives cleaned JSON or field errors,
never an exception; hidden fields are dropped; labels, widgets and messages in the language."""

from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace
from typing import Any

import pytest
from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.http import QueryDict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import (
    AddressFactory,
    HouseholdMemberFactory,
    SchoolFactory,
    StreetFactory,
)
from tests.procedures.conftest import CATALOGUE, minimal_definition
from ville.core.errors import NotFound
from ville.procedures.conditions import EvalContext, context_for
from ville.procedures.definitions import Definition, definition_parse
from ville.procedures.fields import household_members, step_form_class, step_validate
from ville.territory.models import Authority

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 2)


def _choices(*values: str) -> list[dict[str, Any]]:
    return [{"value": v, "label": {"fr": v.title(), "en": v.upper()}} for v in values]


def _fields() -> list[dict[str, Any]]:
    return [
        {
            "name": "name",
            "type": "text",
            "label": {"fr": "Nom", "en": "Name"},
            "help": {"fr": "Votre nom"},
            "required": True,
            "prefill": "profile.last_name",
            "validation": {"max_length": 20},
        },
        {
            "name": "plate",
            "type": "text",
            "label": {"fr": "Immatriculation"},
            "validation": {
                "pattern": "^[A-Z]{2}-[0-9]{3}-[A-Z]{2}$",
                "pattern_message": {"fr": "Comme AB-123-CD.", "en": "Like AB-123-CD."},
            },
        },
        {"name": "notes", "type": "long_text", "label": {"fr": "Notes"}},
        {
            "name": "count",
            "type": "number",
            "label": {"fr": "Nombre"},
            "validation": {"min": 1, "max": 10},
        },
        {
            "name": "amount",
            "type": "number",
            "label": {"fr": "Montant"},
            "validation": {"decimal_places": 2, "max": 1000},
        },
        {
            "name": "birth",
            "type": "date",
            "label": {"fr": "Naissance"},
            "validation": {"min_date": "-120y", "max_date": "today"},
        },
        {
            "name": "start",
            "type": "date",
            "label": {"fr": "Début"},
            "validation": {"min_date": "today", "max_date": "+30d"},
        },
        {"name": "email", "type": "email", "label": {"fr": "Courriel"}, "prefill": "profile.email"},
        {"name": "phone", "type": "phone", "label": {"fr": "Téléphone"}},
        {
            "name": "colour",
            "type": "choice",
            "label": {"fr": "Couleur"},
            "choices": _choices("red", "green", "blue"),
        },
        {
            "name": "city",
            "type": "choice",
            "label": {"fr": "Ville"},
            "choices": _choices(
                "lyon", "villeurbanne", "bron", "vaulx", "caluire", "venissieux", "oullins"
            ),
        },
        {
            "name": "days",
            "type": "multiple_choice",
            "label": {"fr": "Jours"},
            "choices": _choices("monday", "tuesday", "thursday"),
            "validation": {"max_choices": 2},
        },
        {"name": "car", "type": "yes_no", "label": {"fr": "Voiture ?"}, "required": True},
        {
            "name": "car_plate",
            "type": "text",
            "label": {"fr": "Plaque"},
            "required": True,
            "when": {"path": "data.car", "op": "eq", "value": True},
            "validation": {"max_length": 12},
        },
        {
            "name": "address",
            "type": "address",
            "label": {"fr": "Adresse"},
            "validation": {"communes": ["villeurbanne"]},
        },
        {
            "name": "child",
            "type": "household_member",
            "label": {"fr": "Enfant"},
            "relation": "child",
        },
        {"name": "school", "type": "school", "label": {"fr": "École"}},
        {
            "name": "proof",
            "type": "file",
            "label": {"fr": "Justificatif"},
            "required": True,
            "validation": {"max_size_mb": 1},
        },
        {"name": "agree", "type": "consent", "label": {"fr": "J'accepte", "en": "I agree"}},
    ]


@pytest.fixture
def every_type() -> Definition:
    return Definition(definition_parse(minimal_definition(fields=_fields())))


@pytest.fixture
def ctx(family: SimpleNamespace) -> EvalContext:
    return context_for(citizen=family.citizen, today=TODAY)


def _pdf(size: int = 200) -> SimpleUploadedFile:
    body = b"%PDF-1.4\n" + b"0" * max(size - 9, 1)
    return SimpleUploadedFile("proof.pdf", body, content_type="application/pdf")


def _good(family: SimpleNamespace) -> dict[str, Any]:
    return {
        "name": "Martin",
        "plate": "AB-123-CD",
        "notes": "Line one\nLine two\twith a tab",
        "count": 3,
        "amount": "12,50",
        "birth": "1988-06-14",
        "start": "2026-03-10",
        "email": "camille@example.org",
        "phone": "06 12 34 56 78",
        "colour": "green",
        "city": "bron",
        "days": ["thursday", "monday"],
        "car": True,
        "car_plate": "AB-123-CD",
        "address": family.address.pk,
        "child": str(family.leo.pk).upper(),
        "school": "elementaire-jean-jaures",
        "agree": True,
    }


def _expected(family: SimpleNamespace) -> dict[str, Any]:
    return {
        "name": "Martin",
        "plate": "AB-123-CD",
        "notes": "Line one\nLine two\twith a tab",
        "count": 3,
        "amount": 12.5,
        "birth": "1988-06-14",
        "start": "2026-03-10",
        "email": "camille@example.org",
        "phone": "+33612345678",
        "colour": "green",
        "city": "bron",
        "days": ["monday", "thursday"],
        "car": True,
        "car_plate": "AB-123-CD",
        "address": family.address.pk,
        "child": str(family.leo.pk),
        "school": "elementaire-jean-jaures",
        "agree": True,
    }


def _validate(
    definition: Definition,
    ctx: EvalContext,
    data: Any,
    files: dict[str, Any] | None = None,
    lang: str = "en",
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    return step_validate(
        definition=definition, step_id="main", data=data, files=files, ctx=ctx, lang=lang
    )


def test_good_json_values_give_json_ready_answers(
    every_type: Definition, ctx: EvalContext, family: SimpleNamespace
) -> None:
    proof = _pdf()
    cleaned, errors = _validate(every_type, ctx, _good(family), {"proof": proof})
    assert errors == {}
    assert cleaned.pop("proof") is proof
    assert cleaned == _expected(family)
    json.dumps(cleaned)


def test_good_values_from_a_page_give_the_same_answers(
    every_type: Definition, ctx: EvalContext, family: SimpleNamespace
) -> None:
    post = QueryDict(mutable=True)
    for name, value in _good(family).items():
        if isinstance(value, list):
            post.setlist(name, value)
        elif isinstance(value, bool):
            post[name] = {"car": "yes", "agree": "on"}[name]
        else:
            post[name] = str(value)
    cleaned, errors = _validate(every_type, ctx, post, {"proof": _pdf()})
    assert errors == {}
    assert isinstance(cleaned.pop("proof"), UploadedFile)
    assert cleaned == _expected(family)


def test_an_empty_submission_asks_only_for_what_is_required(
    every_type: Definition, ctx: EvalContext
) -> None:
    cleaned, errors = _validate(every_type, ctx, {})
    assert set(errors) == {"name", "car", "proof", "agree"}
    assert errors["agree"] == ["Please tick this box to continue."]
    assert errors["name"] == ["This field is required."]
    assert cleaned["notes"] == "" and cleaned["count"] is None and cleaned["days"] == []
    assert cleaned["colour"] is None and cleaned["address"] is None and "proof" not in cleaned
    assert "car_plate" not in cleaned  # `car` has no answer: its follow-up is hidden


BAD_VALUES: list[tuple[str, Any]] = [
    ("name", "x" * 10_000),
    ("name", "Mar\x00tin"),
    ("name", "Mar\ttin"),
    ("name", ["Martin"]),
    ("name", {"first": "Martin"}),
    ("name", True),
    ("plate", "AB123CD!"),
    ("notes", "x" * 10_240),
    ("notes", "a\x00b"),
    ("notes", "bell\x07"),
    ("count", "abc"),
    ("count", "3.5"),
    ("count", 3.5),
    ("count", 11),
    ("count", 0),
    ("count", "1e5"),
    ("count", True),
    ("count", [1]),
    ("count", "9" * 400),
    ("amount", "12.345"),
    ("amount", "nan"),
    ("amount", "Infinity"),
    ("amount", "1e400"),
    ("amount", "-1"),
    ("amount", 1000.01),
    ("birth", "2026-13-01"),
    ("birth", "not a date"),
    ("birth", "2026-03-03"),  # tomorrow
    ("birth", "1880-01-01"),  # more than 120 years ago
    ("birth", 19880614),
    ("birth", "1988-06-14\x00"),
    ("birth", "1" * 10_000),
    ("birth", ["1988-06-14"]),
    ("start", "2026-03-01"),  # yesterday
    ("start", "2026-04-02"),  # 31 days ahead
    ("email", "not-an-email"),
    ("email", "a" * 300 + "@example.org"),
    ("phone", "call me"),
    ("phone", "12"),
    ("phone", "06 12 34 56 78" * 10),
    ("colour", "purple"),
    ("colour", ["red"]),
    ("city", "atlantis"),
    ("days", ["monday", "sunday"]),
    ("days", ["monday", "tuesday", "thursday"]),
    ("days", "monday"),
    ("days", [1, 2]),
    ("days", {"monday": True}),
    ("car", "maybe"),
    ("car", 1),
    ("address", "abc"),
    ("address", 999_999_999),
    ("address", "-1"),
    ("address", "9" * 40),
    ("address", 1.5),
    ("child", "not-a-uuid"),
    ("child", "00000000-0000-0000-0000-000000000000"),
    ("school", "nowhere"),
    ("agree", False),
    ("agree", "false"),
]


@pytest.mark.parametrize(("name", "value"), BAD_VALUES)
def test_a_bad_value_is_a_field_error_never_an_exception(
    every_type: Definition, ctx: EvalContext, family: SimpleNamespace, name: str, value: Any
) -> None:
    data = {**_good(family), name: value}
    cleaned, errors = _validate(every_type, ctx, data, {"proof": _pdf()})
    assert list(errors) == [name], errors
    assert errors[name] and all(isinstance(m, str) and m for m in errors[name])
    assert name not in cleaned


def test_members_of_another_household_or_relation_are_refused(
    every_type: Definition, ctx: EvalContext, family: SimpleNamespace
) -> None:
    stranger = HouseholdMemberFactory(first_name="Autre")
    for member in (stranger, family.partner):
        data = {**_good(family), "child": str(member.pk)}
        _cleaned, errors = _validate(every_type, ctx, data, {"proof": _pdf()})
        assert list(errors) == ["child"]
        assert "Select a valid choice" in errors["child"][0]


def test_addresses_and_schools_outside_the_commune_are_refused(
    every_type: Definition, ctx: EvalContext, family: SimpleNamespace
) -> None:
    lyon = Authority.objects.get(code="lyon")
    elsewhere = AddressFactory(street=StreetFactory(authority=lyon))
    data = {**_good(family), "address": elsewhere.pk}
    _cleaned, errors = _validate(every_type, ctx, data, {"proof": _pdf()})
    assert errors == {"address": ["This procedure is for addresses in Villeurbanne only."]}

    limited = minimal_definition(
        fields=[
            {
                "name": "school",
                "type": "school",
                "label": {"fr": "École"},
                "validation": {"communes": ["villeurbanne"]},
            }
        ]
    )
    lyon_school = SchoolFactory(authority=lyon)
    _cleaned, errors = step_validate(
        definition=Definition(definition_parse(limited)),
        step_id="main",
        data={"school": lyon_school.code},
        files=None,
        ctx=ctx,
        lang="en",
    )
    assert list(errors) == ["school"]


def test_files_too_large_or_empty_are_refused(
    every_type: Definition, ctx: EvalContext, family: SimpleNamespace
) -> None:
    big = _pdf(1024 * 1024 + 1)
    _cleaned, errors = _validate(every_type, ctx, _good(family), {"proof": big})
    assert errors == {"proof": ["This file is too large (1.0\xa0MB); the limit is 1.0\xa0MB."]}
    empty = SimpleUploadedFile("empty.pdf", b"", content_type="application/pdf")
    _cleaned, errors = _validate(every_type, ctx, _good(family), {"proof": empty})
    assert list(errors) == ["proof"]
    _cleaned, errors = _validate(every_type, ctx, _good(family), {"proof": "not a file"})
    assert list(errors) == ["proof"]
    _cleaned, errors = _validate(every_type, ctx, {**_good(family), "proof": "x"}, None)
    assert list(errors) == ["proof"]


def test_a_file_stored_earlier_satisfies_the_field(
    every_type: Definition, family: SimpleNamespace
) -> None:
    ctx = context_for(citizen=family.citizen, data={"proof": "attachment-1"}, today=TODAY)
    cleaned, errors = _validate(every_type, ctx, _good(family))
    assert errors == {} and cleaned["proof"] == "attachment-1"
    new = _pdf()
    cleaned, errors = _validate(every_type, ctx, _good(family), {"proof": new})
    assert errors == {} and cleaned["proof"] is new


def test_hidden_fields_are_dropped_even_when_invalid(
    every_type: Definition, ctx: EvalContext, family: SimpleNamespace
) -> None:
    data = {**_good(family), "car": False, "car_plate": "x" * 10_000}
    cleaned, errors = _validate(every_type, ctx, data, {"proof": _pdf()})
    assert errors == {}
    assert cleaned["car"] is False and "car_plate" not in cleaned

    data = {**_good(family), "car": True}
    del data["car_plate"]
    _cleaned, errors = _validate(every_type, ctx, data, {"proof": _pdf()})
    assert errors == {"car_plate": ["This field is required."]}


def test_an_invalid_answer_hides_what_depends_on_it(
    every_type: Definition, ctx: EvalContext, family: SimpleNamespace
) -> None:
    data = {**_good(family), "car": "perhaps", "car_plate": "x" * 10_000}
    cleaned, errors = _validate(every_type, ctx, data, {"proof": _pdf()})
    assert list(errors) == ["car"]
    assert "car_plate" not in cleaned


def test_messages_are_in_the_language_asked(
    every_type: Definition, ctx: EvalContext, family: SimpleNamespace
) -> None:
    data = {**_good(family), "plate": "nope"}
    _cleaned, errors = _validate(every_type, ctx, data, {"proof": _pdf()}, lang="en")
    assert errors == {"plate": ["Like AB-123-CD."]}
    _cleaned, errors = _validate(every_type, ctx, data, {"proof": _pdf()}, lang="fr")
    assert errors == {"plate": ["Comme AB-123-CD."]}
    _cleaned, errors = _validate(every_type, ctx, data, {"proof": _pdf()}, lang="es")
    assert errors == {"plate": ["Comme AB-123-CD."]}  # no Spanish text: French
    data = {**_good(family), "start": "2026-04-02"}
    _cleaned, errors = _validate(every_type, ctx, data, {"proof": _pdf()}, lang="en")
    assert errors == {"start": ["Enter a date on or before April 1, 2026."]}


def test_an_unknown_step_is_not_found(every_type: Definition, ctx: EvalContext) -> None:
    with pytest.raises(NotFound):
        step_validate(
            definition=every_type, step_id="nope", data={}, files=None, ctx=ctx, lang="fr"
        )


# --- the form class ------------------------------------------------------------------------


def test_the_form_class_has_the_visible_fields_with_fitting_widgets(
    every_type: Definition, ctx: EvalContext, family: SimpleNamespace
) -> None:
    form_class = step_form_class(every_type, "main", ctx=ctx, lang="en")
    form = form_class()
    assert "car_plate" not in form.fields  # `car` has no answer yet
    assert list(form.fields)[:3] == ["name", "plate", "notes"]
    assert form.fields["name"].label == "Name"
    assert form.fields["name"].help_text == "Votre nom"
    assert form_class.language_fallback  # that help text is only in French
    assert form.fields["name"].required and not form.fields["notes"].required
    assert form.fields["name"].widget.attrs["autocomplete"] == "family-name"
    assert form.fields["name"].widget.attrs["maxlength"] == "20"
    assert form.fields["email"].widget.attrs["autocomplete"] == "email"
    assert isinstance(form.fields["notes"].widget, forms.Textarea)
    assert isinstance(form.fields["colour"].widget, forms.RadioSelect)
    assert isinstance(form.fields["city"].widget, forms.Select)
    assert not isinstance(form.fields["city"].widget, forms.RadioSelect)
    assert isinstance(form.fields["days"].widget, forms.CheckboxSelectMultiple)
    assert isinstance(form.fields["car"].widget, forms.RadioSelect)
    assert [label for _value, label in form.fields["car"].choices] == ["Yes", "No"]
    assert isinstance(form.fields["proof"].widget, forms.FileInput)
    assert form.fields["start"].widget.input_type == "date"  # type: ignore[attr-defined]
    assert form.fields["start"].widget.attrs == {"min": "2026-03-02", "max": "2026-04-01"}
    assert form.fields["child"].choices == [
        (str(family.leo.pk), "Léo Martin"),
        (str(family.ines.pk), "Inès Martin"),
    ]
    assert form.fields["colour"].choices == [("red", "RED"), ("green", "GREEN"), ("blue", "BLUE")]
    assert form.fields["address"].ville_type == "address"  # type: ignore[attr-defined]
    assert form_class.definition_fields["count"]["type"] == "number"
    html = form.as_div()
    assert 'name="agree"' in html and 'id="id_colour_0"' in html

    with_car = context_for(citizen=family.citizen, data={"car": True}, today=TODAY)
    assert "car_plate" in step_form_class(every_type, "main", ctx=with_car, lang="en")().fields


def test_a_bound_form_shows_stored_answers(
    every_type: Definition, ctx: EvalContext, family: SimpleNamespace
) -> None:
    form = step_form_class(every_type, "main", ctx=ctx, lang="fr")(
        initial={"car": False, "birth": "1988-06-14", "address": family.address.pk}
    )
    html = str(form["car"])
    assert 'value="no" required id="id_car_1" checked' in html
    assert 'value="1988-06-14"' in str(form["birth"])


def test_the_canteen_meals_step(family: SimpleNamespace) -> None:
    path = CATALOGUE / "canteen-registration.yaml"
    canteen = Definition(definition_parse(path.read_text(encoding="utf-8")))
    ctx = context_for(citizen=family.citizen, beneficiary=family.leo, today=TODAY)
    base = {"days": ["monday", "friday"], "diet": "no_meat"}

    cleaned, errors = step_validate(
        definition=canteen,
        step_id="meals",
        data={**base, "has_allergy": True},
        files=None,
        ctx=ctx,
        lang="ar",
    )
    assert set(errors) == {"allergy_details", "has_pai"}
    assert cleaned == {"days": ["monday", "friday"], "diet": "no_meat", "has_allergy": True}

    cleaned, errors = step_validate(
        definition=canteen,
        step_id="meals",
        data={**base, "has_allergy": False, "allergy_details": "arachide", "has_pai": True},
        files=None,
        ctx=ctx,
        lang="ar",
    )
    assert errors == {}
    assert cleaned == {"days": ["monday", "friday"], "diet": "no_meat", "has_allergy": False}

    form = step_form_class(canteen, "meals", ctx=ctx, lang="ar")()
    assert form.fields["diet"].label == "القائمة"
    assert form.fields["has_allergy"].label == "هل لدى الطفل حساسية أو عدم تحمّل لبعض الأطعمة؟"


def test_the_parking_registration_number(family: SimpleNamespace) -> None:
    path = CATALOGUE / "residential-parking-permit.yaml"
    parking = Definition(definition_parse(path.read_text(encoding="utf-8")))
    ctx = context_for(citizen=family.citizen, today=TODAY)
    for plate, ok in [
        ("AB-123-CD", True),
        ("ab 123 cd", True),
        ("AB123CD", True),
        ("123-AB-69", False),
        ("AB-1234-CD", False),
    ]:
        _cleaned, errors = step_validate(
            definition=parking,
            step_id="vehicle",
            data={"request_kind": "first", "vehicle_holder": "self", "registration_number": plate},
            files=None,
            ctx=ctx,
            lang="en",
        )
        assert (errors == {}) is ok, (plate, errors)
    assert errors["registration_number"] == [
        "Write the registration number as on the certificate, for example AB-123-CD."
    ]


def test_household_members_for_a_citizen_without_household(family: SimpleNamespace) -> None:
    assert household_members(citizen=None) == []
    names = [m.first_name for m in household_members(citizen=family.citizen)]
    assert names == ["Léo", "Inès", "Sami"]  # children first, oldest first
    assert [m.pk for m in household_members(citizen=family.citizen, relation="partner")] == [
        family.partner.pk
    ]


# --- anything at all -----------------------------------------------------------------------

_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=60),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.dictionaries(st.sampled_from([f["name"] for f in _fields()]), _JSON))
def test_any_json_gives_answers_or_errors(
    every_type: Definition, ctx: EvalContext, data: dict[str, Any]
) -> None:
    cleaned, errors = _validate(every_type, ctx, data)
    assert not set(cleaned) & set(errors)
    json.dumps(cleaned)
    assert all(isinstance(m, str) for messages in errors.values() for m in messages)
