"""Conditions of definitions (`when`, eligibility): data evaluated against what is known of
the applicant, never code. A missing value makes a comparison false, never an error."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ObjectDoesNotExist
from django.utils import timezone

from ville.accounts.models import HouseholdMember, age_on
from ville.procedures.definitions import Definition, text_in
from ville.procedures.prefill import known_attributes_usable, known_key

if TYPE_CHECKING:
    from ville.accounts.models import User


class _Missing:
    """A value nobody knows (no beneficiary, no answer, nothing in the vault)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


@dataclass
class EvalContext:
    """What conditions may look at: the applicant, the beneficiary, the answers so far
    (`data`), the reusable known attributes (`known`, vault key → value) and today."""

    citizen: User | None
    beneficiary: HouseholdMember | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    known: Mapping[str, Any] = field(default_factory=dict)
    today: dt.date = field(default_factory=timezone.localdate)

    def with_data(self, data: Mapping[str, Any]) -> EvalContext:
        return replace(self, data=data)


def context_for(
    *,
    citizen: User | None,
    beneficiary: HouseholdMember | None = None,
    data: Mapping[str, Any] | None = None,
    today: dt.date | None = None,
) -> EvalContext:
    """The context of one applicant (None: someone not logged in), reading the vault once."""
    known: dict[str, Any] = {}
    if citizen is not None and citizen.pk is not None:
        known = dict(known_attributes_usable(citizen=citizen).values_list("key", "value"))
    return EvalContext(
        citizen=citizen,
        beneficiary=beneficiary,
        data=dict(data or {}),
        known=known,
        today=today or timezone.localdate(),
    )


# --- paths ---------------------------------------------------------------------------------


def resolve(path: str, ctx: EvalContext) -> Any:
    """The value at `path` (see docs/domains/procedures.md), or MISSING."""
    try:
        value = _resolve(path, ctx)
    except (AttributeError, ObjectDoesNotExist, TypeError, ValueError):
        # A deleted school or address, a malformed date: unknown, not an error.
        return MISSING
    return MISSING if value is None else value


def _resolve(path: str, ctx: EvalContext) -> Any:
    head, _dot, rest = path.partition(".")
    if head == "data":
        return ctx.data.get(rest, MISSING)
    if head == "known":
        key = known_key(rest, ctx.beneficiary)
        return MISSING if key is None else ctx.known.get(key, MISSING)
    if head == "beneficiary":
        return _person(ctx.beneficiary, rest, ctx.today)
    if head == "citizen":
        return _person(ctx.citizen, rest, ctx.today)
    return MISSING


def _person(person: Any, rest: str, today: dt.date) -> Any:
    if person is None:
        return MISSING
    if rest == "age_years":
        return age_on(person.birth_date, today)
    if rest == "age_months":
        return months_between(person.birth_date, today)
    if rest == "relation":
        return person.relation
    if rest == "school.level":
        return person.school.level if person.school_id else MISSING
    if rest == "school.commune":
        return person.school.authority.code if person.school_id else MISSING
    if rest == "address.commune":
        return person.address.street.authority.code if person.address_id else MISSING
    if rest == "address.district":
        district = person.address.district if person.address_id else None
        return district.code if district is not None else MISSING
    return MISSING


def months_between(birth_date: dt.date | None, day: dt.date) -> int | None:
    """Full months lived on `day` (negative before birth, for an expected child)."""
    if birth_date is None:
        return None
    months = (day.year - birth_date.year) * 12 + day.month - birth_date.month
    return months - 1 if day.day < birth_date.day else months


# --- evaluation ----------------------------------------------------------------------------


def evaluate(condition: Any, ctx: EvalContext) -> bool:
    """Whether `condition` holds. Unknown values and values of another type than the one
    compared with make a comparison false (`falsy` is the one that holds on nothing)."""
    if not isinstance(condition, Mapping):
        return False
    if "all" in condition:
        parts = condition["all"]
        return isinstance(parts, list) and all(evaluate(part, ctx) for part in parts)
    if "any" in condition:
        parts = condition["any"]
        return isinstance(parts, list) and any(evaluate(part, ctx) for part in parts)
    if "not" in condition:
        return not evaluate(condition["not"], ctx)
    path = condition.get("path")
    if not isinstance(path, str):
        return False
    return compare(str(condition.get("op")), resolve(path, ctx), condition.get("value"))


def compare(op: str, actual: Any, expected: Any) -> bool:
    """One comparison of a known (or MISSING) value with the definition's value."""
    if op == "truthy":
        return actual is not MISSING and bool(actual)
    if op == "falsy":
        return actual is MISSING or not bool(actual)
    if actual is MISSING:
        return False
    if op == "eq":
        return _same(actual, expected)
    if op == "ne":
        return _kind(actual) == _kind(expected) and not _same(actual, expected)
    if op in ("in", "not_in"):
        if not isinstance(expected, list):
            return False
        # A multiple choice answer is "in" the list when one of its values is.
        values = actual if isinstance(actual, list) else [actual]
        if not all(_kind(value) in {_kind(item) for item in expected} for value in values):
            return False
        found = any(_same(value, item) for value in values for item in expected)
        return found if op == "in" else not found
    if op == "between":
        if not (isinstance(expected, list) and len(expected) == 2):
            return False
        low, high = expected
        return _ordered(low, actual) and _ordered(actual, high)
    if op in ("gt", "gte", "lt", "lte"):
        if not _comparable(actual, expected):
            return False
        if op == "gt":
            return bool(actual > expected)
        if op == "gte":
            return bool(actual >= expected)
        if op == "lt":
            return bool(actual < expected)
        return bool(actual <= expected)
    return False


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | Decimal):
        return "number"
    if isinstance(value, float):
        return "number" if math.isfinite(value) else "other"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    return "other"


def _same(actual: Any, expected: Any) -> bool:
    # True == 1 in Python; a yes/no answer is not the number one.
    return _kind(actual) == _kind(expected) != "other" and actual == expected


def _comparable(left: Any, right: Any) -> bool:
    return _kind(left) == _kind(right) and _kind(left) in ("number", "string")


def _ordered(low: Any, high: Any) -> bool:
    return _comparable(low, high) and bool(low <= high)


# --- what definitions ask ------------------------------------------------------------------


def eligibility_failures(*, definition: Definition, ctx: EvalContext, lang: str) -> list[str]:
    """The explanations, in `lang` (French if missing), of the eligibility rules that do
    not hold; empty when the applicant may apply."""
    return [
        text_in(rule["explanation"], lang)
        for rule in definition.eligibility
        if not evaluate(rule["condition"], ctx)
    ]


def visible_fields(
    definition: Definition, step_id: str, ctx: EvalContext
) -> list[Mapping[str, Any]]:
    """The fields of a step whose `when` holds for the answers so far, in order. An answer
    to a field that is hidden does not count for the fields after it."""
    return [field for field, shown in _visibility(definition.fields(step_id), ctx) if shown]


def visible_data(*, definition: Definition, ctx: EvalContext) -> dict[str, Any]:
    """`ctx.data` without the answers to fields that are hidden now (an earlier answer was
    changed): what is kept at submission."""
    kept: dict[str, Any] = {}
    data = dict(ctx.data)
    for item, shown in _visibility(definition.fields(), ctx.with_data(data)):
        if shown and item["name"] in data:
            kept[item["name"]] = data[item["name"]]
    return kept


def _visibility(
    fields: list[Mapping[str, Any]], ctx: EvalContext
) -> list[tuple[Mapping[str, Any], bool]]:
    data = dict(ctx.data)
    seen = ctx.with_data(data)
    result = []
    for item in fields:
        shown = "when" not in item or evaluate(item["when"], seen)
        if not shown:
            data.pop(item["name"], None)
        result.append((item, shown))
    return result
