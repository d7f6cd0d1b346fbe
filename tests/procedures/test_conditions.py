"""Conditions: the truth table of every operator, unknown values, paths into the family and
the vault, eligibility explanations and conditional fields."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import timezone

from tests.factories import AddressFactory, SchoolFactory, StreetFactory, UserFactory
from tests.procedures.conftest import CATALOGUE, minimal_definition
from ville.procedures.conditions import (
    MISSING,
    EvalContext,
    compare,
    context_for,
    eligibility_failures,
    evaluate,
    months_between,
    resolve,
    visible_data,
    visible_fields,
)
from ville.procedures.definitions import Definition, definition_parse
from ville.territory.models import Authority
from ville.vault.models import KnownAttribute

pytestmark = pytest.mark.django_db


def _definition(slug: str) -> Definition:
    path = CATALOGUE / f"{slug}.yaml"
    return Definition(definition_parse(path.read_text(encoding="utf-8"), source=path.name))


# (op, actual, expected, result): MISSING is a value nobody knows.
TRUTH_TABLE: list[tuple[str, Any, Any, bool]] = [
    ("eq", "a", "a", True),
    ("eq", "a", "b", False),
    ("eq", 3, 3, True),
    ("eq", 3, 3.0, True),
    ("eq", True, True, True),
    ("eq", True, 1, False),  # a yes is not the number one
    ("eq", 1, True, False),
    ("eq", "3", 3, False),
    ("eq", MISSING, "a", False),
    ("eq", MISSING, None, False),
    ("eq", ["a"], "a", False),
    ("ne", "a", "b", True),
    ("ne", "a", "a", False),
    ("ne", "3", 3, False),  # another type: false, not "different"
    ("ne", MISSING, "a", False),
    ("in", "a", ["a", "b"], True),
    ("in", "c", ["a", "b"], False),
    ("in", 2, [1, 2], True),
    ("in", "2", [1, 2], False),
    ("in", ["x", "b"], ["a", "b"], True),  # a multiple choice with one value in the list
    ("in", ["x", "y"], ["a", "b"], False),
    ("in", [], ["a"], False),
    ("in", "a", "abc", False),  # not a list
    ("in", MISSING, ["a"], False),
    ("not_in", "c", ["a", "b"], True),
    ("not_in", "a", ["a", "b"], False),
    ("not_in", ["x", "y"], ["a", "b"], True),
    ("not_in", ["x", "a"], ["a", "b"], False),
    ("not_in", 3, ["a"], False),
    ("not_in", MISSING, ["a"], False),
    ("gt", 5, 3, True),
    ("gt", 3, 3, False),
    ("gte", 3, 3, True),
    ("lt", 2, 3, True),
    ("lt", 3, 3, False),
    ("lte", 3, 3, True),
    ("lt", "2026-01-01", "2026-02-01", True),  # ISO dates compare as text
    ("gt", "5", 3, False),
    ("gt", True, 0, False),
    ("lt", None, 3, False),
    ("gt", MISSING, 3, False),
    ("lt", MISSING, 3, False),
    ("lt", float("nan"), 3, False),
    ("between", 2, [2, 11], True),
    ("between", 11, [2, 11], True),
    ("between", 12, [2, 11], False),
    ("between", 1, [2, 11], False),
    ("between", "b", ["a", "c"], True),
    ("between", "5", [2, 11], False),
    ("between", 5, [2], False),
    ("between", 5, 2, False),
    ("between", MISSING, [2, 11], False),
    ("truthy", "a", None, True),
    ("truthy", "", None, False),
    ("truthy", 0, None, False),
    ("truthy", False, None, False),
    ("truthy", [], None, False),
    ("truthy", MISSING, None, False),
    ("falsy", "", None, True),
    ("falsy", 0, None, True),
    ("falsy", "a", None, False),
    ("falsy", MISSING, None, True),  # nothing known is falsy
    ("like", "a", "a", False),  # an operator that does not exist holds on nothing
]


@pytest.mark.parametrize(("op", "actual", "expected", "result"), TRUTH_TABLE)
def test_truth_table(op: str, actual: Any, expected: Any, result: bool) -> None:
    assert compare(op, actual, expected) is result


def _ctx(**data: Any) -> EvalContext:
    return EvalContext(citizen=None, data=data, today=dt.date(2026, 3, 2))


@pytest.mark.parametrize(
    ("condition", "data", "result"),
    [
        ({"path": "data.a", "op": "eq", "value": 1}, {"a": 1}, True),
        ({"path": "data.a", "op": "eq", "value": 1}, {}, False),
        ({"path": "data.a", "op": "eq", "value": 1}, {"a": None}, False),
        ({"not": {"path": "data.a", "op": "eq", "value": 1}}, {}, True),
        (
            {"all": [{"path": "data.a", "op": "truthy"}, {"path": "data.b", "op": "truthy"}]},
            {"a": 1, "b": 1},
            True,
        ),
        (
            {"all": [{"path": "data.a", "op": "truthy"}, {"path": "data.b", "op": "truthy"}]},
            {"a": 1},
            False,
        ),
        (
            {"any": [{"path": "data.a", "op": "truthy"}, {"path": "data.b", "op": "truthy"}]},
            {"b": 1},
            True,
        ),
        (
            {"any": [{"path": "data.a", "op": "truthy"}, {"path": "data.b", "op": "truthy"}]},
            {},
            False,
        ),
        ({"all": []}, {}, True),
        ({"any": []}, {}, False),
        ({"not": {"any": [{"path": "data.a", "op": "falsy"}]}}, {"a": "x"}, True),
        # Malformed conditions (never from a checked definition) are false, not errors.
        ({"all": "data.a"}, {"a": 1}, False),
        ({"path": 3, "op": "truthy"}, {}, False),
        ({"path": "nowhere.x", "op": "truthy"}, {}, False),
        ({"path": "nowhere.x", "op": "falsy"}, {}, True),
        ("data.a == 1", {"a": 1}, False),
        (None, {}, False),
    ],
)
def test_combinators_and_unknowns(condition: Any, data: dict[str, Any], result: bool) -> None:
    assert evaluate(condition, _ctx(**data)) is result


@pytest.mark.parametrize(
    ("birth", "day", "months"),
    [
        (dt.date(2025, 11, 2), dt.date(2026, 3, 2), 4),
        (dt.date(2025, 11, 3), dt.date(2026, 3, 2), 3),
        (dt.date(2023, 3, 2), dt.date(2026, 3, 2), 36),
        (dt.date(2026, 5, 1), dt.date(2026, 3, 2), -2),
    ],
)
def test_months_between(birth: dt.date, day: dt.date, months: int) -> None:
    assert months_between(birth, day) == months


def test_paths_into_the_family(family: SimpleNamespace) -> None:
    ctx = context_for(citizen=family.citizen, beneficiary=family.leo, today=family.today)
    assert resolve("beneficiary.age_years", ctx) == 8
    assert resolve("beneficiary.age_months", ctx) == 8 * 12 + 5
    assert resolve("beneficiary.relation", ctx) == "child"
    assert resolve("beneficiary.school.level", ctx) == "elementaire"
    assert resolve("beneficiary.school.commune", ctx) == "villeurbanne"
    assert resolve("citizen.age_years", ctx) == 37
    assert resolve("citizen.address.commune", ctx) == "villeurbanne"
    assert resolve("citizen.address.district", ctx) == family.address.district.code
    assert resolve("citizen.shoe_size", ctx) is MISSING


def test_paths_without_a_beneficiary_school_or_address_are_unknown(
    family: SimpleNamespace,
) -> None:
    family.leo.school = None
    family.leo.birth_date = None
    family.citizen.address = None
    ctx = context_for(citizen=family.citizen, beneficiary=family.leo, today=family.today)
    assert resolve("beneficiary.school.level", ctx) is MISSING
    assert resolve("beneficiary.age_years", ctx) is MISSING
    assert resolve("citizen.address.commune", ctx) is MISSING
    nobody = context_for(citizen=family.citizen, today=family.today)
    assert resolve("beneficiary.age_months", nobody) is MISSING
    assert evaluate({"path": "beneficiary.relation", "op": "falsy"}, nobody)
    anonymous = context_for(citizen=None)
    assert resolve("citizen.age_years", anonymous) is MISSING
    assert anonymous.known == {}


def test_known_attributes_count_only_when_verified_or_consented(
    family: SimpleNamespace,
) -> None:
    citizen = family.citizen
    now = timezone.now()
    KnownAttribute.objects.create(
        citizen=citizen, key="family_quotient", value=812, source="caf", verified_at=now
    )
    KnownAttribute.objects.create(
        citizen=citizen,
        key="caf_number",
        value="1234567",
        source="citizen",
        reuse_consented_at=now,
    )
    KnownAttribute.objects.create(citizen=citizen, key="income", value=20000, source="citizen")
    KnownAttribute.objects.create(
        citizen=citizen,
        key=f"child.{family.leo.pk}.allergies",
        value="arachide",
        source="agent:x",
        verified_at=now,
    )
    KnownAttribute.objects.create(
        citizen=UserFactory(), key="other_person", value=1, source="caf", verified_at=now
    )
    ctx = context_for(citizen=citizen, beneficiary=family.leo)
    assert ctx.known == {
        "family_quotient": 812,
        "caf_number": "1234567",
        f"child.{family.leo.pk}.allergies": "arachide",
    }
    assert evaluate({"path": "known.family_quotient", "op": "lt", "value": 1000}, ctx)
    assert not evaluate({"path": "known.income", "op": "truthy"}, ctx)
    assert evaluate({"path": "known.beneficiary.allergies", "op": "eq", "value": "arachide"}, ctx)
    other_child = context_for(citizen=citizen, beneficiary=family.ines)
    assert not evaluate({"path": "known.beneficiary.allergies", "op": "truthy"}, other_child)
    no_child = context_for(citizen=citizen)
    assert not evaluate({"path": "known.beneficiary.allergies", "op": "truthy"}, no_child)


def test_canteen_eligibility_with_explanations_in_the_language(family: SimpleNamespace) -> None:
    canteen = _definition("canteen-registration")
    ok = context_for(citizen=family.citizen, beneficiary=family.leo, today=family.today)
    assert eligibility_failures(definition=canteen, ctx=ok, lang="fr") == []

    lyon = Authority.objects.get(code="lyon")
    baby = SimpleNamespace(
        pk="x",
        relation="child",
        birth_date=dt.date(2025, 11, 2),
        school_id=1,
        school=SchoolFactory(authority=lyon),
    )
    ctx = context_for(citizen=family.citizen, beneficiary=baby, today=family.today)  # type: ignore[arg-type]
    failures = eligibility_failures(definition=canteen, ctx=ctx, lang="en")
    assert failures == [
        "School canteens take children aged 2 to 11, in nursery or primary school.",
        (
            'The child must attend a Villeurbanne state school. Add their school in "My '
            'household"; if they are not enrolled at a school yet, do the school enrolment first.'
        ),
    ]
    arabic = eligibility_failures(definition=canteen, ctx=ctx, lang="ar")
    assert arabic[0].startswith("يستقبل المطعم المدرسي")


def test_an_explanation_missing_in_a_language_falls_back_to_french() -> None:
    definition = Definition(
        definition_parse(
            minimal_definition(
                eligibility=[
                    {
                        "condition": {"path": "citizen.age_years", "op": "gte", "value": 18},
                        "explanation": {"fr": "Il faut être majeur.", "en": "Adults only."},
                    }
                ]
            )
        )
    )
    ctx = context_for(citizen=None)
    assert eligibility_failures(definition=definition, ctx=ctx, lang="en") == ["Adults only."]
    [spanish] = eligibility_failures(definition=definition, ctx=ctx, lang="es")
    assert spanish == "Il faut être majeur." and spanish.is_fallback  # type: ignore[attr-defined]


def test_creche_eligibility_child_under_three_or_expected(family: SimpleNamespace) -> None:
    creche = _definition("creche-application")
    expected = context_for(citizen=family.citizen, today=family.today)
    assert eligibility_failures(definition=creche, ctx=expected, lang="fr") == []
    leo = context_for(citizen=family.citizen, beneficiary=family.leo, today=family.today)
    assert len(eligibility_failures(definition=creche, ctx=leo, lang="fr")) == 1
    family.leo.birth_date = dt.date(2023, 3, 3)  # 35 months old that day
    assert eligibility_failures(definition=creche, ctx=leo, lang="fr") == []
    family.leo.birth_date = dt.date(2023, 3, 2)  # 3 years old that day
    assert len(eligibility_failures(definition=creche, ctx=leo, lang="fr")) == 1


def test_parking_is_for_residents_of_villeurbanne(family: SimpleNamespace) -> None:
    parking = _definition("residential-parking-permit")
    resident = context_for(citizen=family.citizen)
    assert eligibility_failures(definition=parking, ctx=resident, lang="fr") == []
    lyon = Authority.objects.get(code="lyon")
    family.citizen.address = AddressFactory(street=StreetFactory(authority=lyon))
    [why] = eligibility_failures(
        definition=parking, ctx=context_for(citizen=family.citizen), lang="pt"
    )
    assert "Villeurbanne" in why and why.startswith("O cartão de residente")


def test_visible_fields_follow_earlier_answers(family: SimpleNamespace) -> None:
    canteen = _definition("canteen-registration")

    def names(**data: Any) -> list[str]:
        ctx = context_for(citizen=family.citizen, beneficiary=family.leo, data=data)
        return [f["name"] for f in visible_fields(canteen, "meals", ctx)]

    assert names() == ["days", "diet", "has_allergy"]
    assert names(has_allergy=False) == ["days", "diet", "has_allergy"]
    assert names(has_allergy=True) == [
        "days",
        "diet",
        "has_allergy",
        "allergy_details",
        "has_pai",
    ]
    assert names(has_allergy=True, has_pai=True)[-1] == "pai_document"
    # A stale answer to a hidden question does not open what depends on it.
    assert names(has_allergy=False, has_pai=True) == ["days", "diet", "has_allergy"]


def test_visible_fields_on_the_vault_and_the_beneficiary(family: SimpleNamespace) -> None:
    canteen = _definition("canteen-registration")
    ctx = context_for(citizen=family.citizen, data={"family_quotient": 700})
    assert [f["name"] for f in visible_fields(canteen, "price", ctx)] == [
        "family_quotient",
        "quotient_certificate",
    ]
    KnownAttribute.objects.create(
        citizen=family.citizen,
        key="family_quotient",
        value=700,
        source="caf",
        verified_at=timezone.now(),
    )
    ctx = context_for(citizen=family.citizen, data={"family_quotient": 700})
    assert [f["name"] for f in visible_fields(canteen, "price", ctx)] == ["family_quotient"]

    creche = _definition("creche-application")
    unborn = context_for(citizen=family.citizen)
    assert [f["name"] for f in visible_fields(creche, "child", unborn)] == ["expected_birth_date"]
    born = context_for(citizen=family.citizen, beneficiary=family.ines)
    assert [f["name"] for f in visible_fields(creche, "child", born)] == [
        "child_first_name",
        "child_last_name",
        "child_birth_date",
    ]


def test_visible_data_drops_answers_to_hidden_fields(family: SimpleNamespace) -> None:
    canteen = _definition("canteen-registration")
    data = {
        "days": ["monday"],
        "has_allergy": False,
        "allergy_details": "arachide",
        "has_pai": True,
        "pai_document": "attachment-id",
        "unknown_key": "x",
    }
    ctx = context_for(citizen=family.citizen, beneficiary=family.leo, data=data)
    assert visible_data(definition=canteen, ctx=ctx) == {"days": ["monday"], "has_allergy": False}


def test_context_defaults() -> None:
    ctx = context_for(citizen=None, data={"a": 1})
    assert ctx.today == timezone.localdate()
    assert ctx.with_data({"b": 2}).data == {"b": 2} and ctx.data == {"a": 1}
