"""Procedure definitions: the YAML format checked (schema, then meaning), loaded into
immutable versions, and read through a light `Definition` view (docs/domains/procedures.md).
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.db import transaction
from django.db.models import Max
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError as SchemaError
from jsonschema.exceptions import best_match

from ville.procedures.models import DRAFT, WITHDRAWN, Procedure, ProcedureVersion

SCHEMA_PATH = Path(__file__).with_name("definition.schema.json")
LANGUAGES = ("fr", "en", "es", "ar", "pt")
FALLBACK_LANGUAGE = "fr"

FIELD_TYPES = (
    "text",
    "long_text",
    "number",
    "date",
    "email",
    "phone",
    "choice",
    "multiple_choice",
    "yes_no",
    "address",
    "household_member",
    "school",
    "file",
    "consent",
)
_TEXTS = frozenset({"text", "long_text"})

# Which `validation` keys each field type understands.
VALIDATIONS: dict[str, frozenset[str]] = {
    "text": frozenset({"min_length", "max_length", "pattern", "pattern_message"}),
    "long_text": frozenset({"min_length", "max_length"}),
    "number": frozenset({"min", "max", "decimal_places"}),
    "date": frozenset({"min_date", "max_date"}),
    "multiple_choice": frozenset({"min_choices", "max_choices"}),
    "address": frozenset({"communes"}),
    "school": frozenset({"communes"}),
    "file": frozenset({"max_size_mb"}),
}

# Prefill sources and the field types each may fill (`known.<key>` fills any type).
PREFILL_SOURCES: dict[str, frozenset[str]] = {
    "profile.first_name": _TEXTS,
    "profile.last_name": _TEXTS,
    "profile.birth_date": frozenset({"date"}),
    "profile.email": frozenset({"email", "text"}),
    "profile.phone": frozenset({"phone", "text"}),
    "profile.address": frozenset({"address"}),
    "beneficiary.id": frozenset({"household_member"}),
    "beneficiary.first_name": _TEXTS,
    "beneficiary.last_name": _TEXTS,
    "beneficiary.birth_date": frozenset({"date"}),
    "beneficiary.school": frozenset({"school"}),
    "household.partner.id": frozenset({"household_member"}),
    "household.partner.first_name": _TEXTS,
    "household.partner.last_name": _TEXTS,
}

# Condition paths other than `data.<field>` and `known.<key>`.
BENEFICIARY_PATHS = frozenset(
    {
        "beneficiary.age_years",
        "beneficiary.age_months",
        "beneficiary.relation",
        "beneficiary.school.level",
        "beneficiary.school.commune",
    }
)
CITIZEN_PATHS = frozenset(
    {"citizen.age_years", "citizen.address.commune", "citizen.address.district"}
)
KNOWN_KEY = re.compile(r"[a-z0-9_]+(\.[A-Za-z0-9_-]+)*")
RELATIVE_DATE = re.compile(r"(?:(today)|([+-])([0-9]{1,4})([dwmy])|([0-9]{4}-[0-9]{2}-[0-9]{2}))")

_COMBINATORS = ("all", "any", "not")
_CHOICE_TYPES = frozenset({"choice", "multiple_choice"})
_BOOLEAN_TYPES = frozenset({"yes_no", "consent"})


class DefinitionError(Exception):
    """A definition that cannot be used: where (`source` file, `path` inside it) and why."""

    def __init__(self, path: str, message: str, *, source: str = "") -> None:
        self.path = path
        self.message = message
        self.source = source
        super().__init__(str(self))

    def __str__(self) -> str:
        return ": ".join(part for part in (self.source, self.path, self.message) if part)


class DefinitionLoadFailed(Exception):
    """Some files could not be loaded (the others were); each error names its file."""

    def __init__(self, errors: list[DefinitionError], counts: dict[str, int]) -> None:
        self.errors = errors
        self.counts = counts
        super().__init__("\n".join(str(error) for error in errors))


# --- parsing -------------------------------------------------------------------------------


class _UniqueKeyLoader(yaml.SafeLoader):
    """Safe YAML that refuses a key given twice (PyYAML would keep the last silently)."""


def _mapping_without_duplicates(loader: yaml.SafeLoader, node: yaml.MappingNode) -> Any:
    seen: set[Any] = set()
    for key_node, _value in node.value:
        key = loader.construct_object(key_node, deep=True)  # type: ignore[no-untyped-call]
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"the key {key!r} is given twice", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=True)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates
)


@cache
def _validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def definition_schema() -> dict[str, Any]:
    """The JSON Schema of the format (for documentation and other validators)."""
    return dict(_validator().schema)


def definition_parse(text_or_dict: str | Mapping[str, Any], *, source: str = "") -> dict[str, Any]:
    """Parse a YAML text (or take a dict), check it against the schema, then check what it
    means. Returns the definition as plain JSON-compatible data; raises DefinitionError."""
    if isinstance(text_or_dict, str):
        try:
            raw = yaml.load(text_or_dict, Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or str(exc)
            raise DefinitionError(where, f"not valid YAML: {problem}", source=source) from exc
    else:
        raw = text_or_dict
    if not isinstance(raw, Mapping):
        raise DefinitionError("", "a definition must be a mapping (key: value)", source=source)
    definition = dict(raw)
    error = best_match(_validator().iter_errors(definition))
    while error is not None and error.validator == "oneOf" and _is_comparison(error.instance):
        # A condition with `path`/`op` is meant as a comparison: say what is wrong with it
        # rather than that it matches none of the four forms.
        branch = [e for e in error.context or [] if e.relative_schema_path[0] == 0]
        if not branch:
            break
        error = best_match(branch)
    if error is not None:
        raise DefinitionError(
            _format_path(error.absolute_path), _schema_message(error), source=source
        )
    try:
        _check_meaning(definition)
    except DefinitionError as exc:
        exc.source = source
        raise
    return definition


def _format_path(parts: Iterable[Any]) -> str:
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(top level)"


def _schema_message(error: SchemaError) -> str:
    """jsonschema's message, said the way an author of a YAML file thinks of it."""
    instance = error.instance
    if error.validator == "required":
        missing = [name for name in error.validator_value if name not in instance]
        if "fr" in missing:
            return "the French text ('fr') is missing: every text needs at least French"
        return f"'{missing[0]}' is missing" if missing else error.message
    if error.validator == "additionalProperties":
        allowed = sorted((error.schema.get("properties") or {}).keys())
        unknown = sorted(set(instance) - set(allowed)) if isinstance(instance, Mapping) else []
        return f"unknown key {', '.join(map(repr, unknown))} (allowed: {', '.join(allowed)})"
    if error.validator == "enum":
        choices = ", ".join(str(value) for value in error.validator_value)
        return f"{_short(instance)} is not one of: {choices}"
    if error.validator == "oneOf" and isinstance(instance, Mapping):
        if "op" in instance or "path" in instance:
            return f"not a valid condition: {_short(dict(instance))}"
        return "a condition is {path, op, value} or one of {all: [...]}, {any: [...]}, {not: {...}}"
    if error.validator == "not" and error.validator_value == {"required": ["value"]}:
        return "truthy and falsy take no 'value'"
    if error.validator == "not" and error.validator_value == {"required": ["choices"]}:
        return "only choice and multiple_choice fields have 'choices'"
    if error.validator == "not" and error.validator_value == {"required": ["relation"]}:
        return "only household_member fields have a 'relation'"
    if error.validator == "not" and error.validator_value == {"required": ["outcome"]}:
        return "only final states have an 'outcome'"
    if error.validator == "pattern":
        return f"{_short(instance)} does not have the expected form ({error.validator_value})"
    return error.message


def _is_comparison(instance: Any) -> bool:
    return isinstance(instance, Mapping) and ("path" in instance or "op" in instance)


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- meaning -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _FieldInfo:
    path: str
    step_index: int
    order: int
    field: Mapping[str, Any]


def _check_meaning(definition: Mapping[str, Any]) -> None:
    beneficiary = definition.get("beneficiary")
    relation = beneficiary["relation"] if beneficiary else None
    every_name = {field["name"] for step in definition["steps"] for field in step["fields"]}
    fields: dict[str, _FieldInfo] = {}
    step_ids: dict[str, int] = {}
    for step_index, step in enumerate(definition["steps"]):
        step_path = f"steps[{step_index}]"
        if step["id"] in step_ids:
            raise DefinitionError(
                f"{step_path}.id",
                f"step id '{step['id']}' is already used by steps[{step_ids[step['id']]}]",
            )
        step_ids[step["id"]] = step_index
        for field_index, field in enumerate(step["fields"]):
            path = f"{step_path}.fields[{field_index}]"
            name = field["name"]
            if name in fields:
                raise DefinitionError(
                    f"{path}.name", f"field name '{name}' is already used at {fields[name].path}"
                )
            if "when" in field:
                _check_condition(
                    field["when"],
                    f"{path}.when",
                    fields=fields,
                    relation=relation,
                    before=name,
                    later=every_name,
                )
            _check_field(field, path, relation=relation)
            fields[name] = _FieldInfo(path, step_index, len(fields), field)
    for index, rule in enumerate(definition.get("eligibility") or []):
        _check_condition(
            rule["condition"], f"eligibility[{index}].condition", fields=fields, relation=relation
        )
    _check_unique(
        [document["id"] for document in definition.get("documents") or []], "documents", "id"
    )
    _check_workflow(definition["workflow"])


def _check_unique(values: list[str], path: str, key: str) -> None:
    seen: dict[str, int] = {}
    for index, value in enumerate(values):
        if value in seen:
            raise DefinitionError(
                f"{path}[{index}].{key}", f"'{value}' is already used at {path}[{seen[value]}]"
            )
        seen[value] = index


def _check_field(field: Mapping[str, Any], path: str, *, relation: str | None) -> None:
    kind = field["type"]
    validation = field.get("validation") or {}
    allowed = VALIDATIONS.get(kind, frozenset())
    for key in validation:
        if key not in allowed:
            accepted = ", ".join(sorted(allowed)) or "none"
            raise DefinitionError(
                f"{path}.validation.{key}",
                f"'{key}' does not apply to a {kind} field (accepted here: {accepted})",
            )
    for low, high in (("min_length", "max_length"), ("min", "max"), ("min_choices", "max_choices")):
        if low in validation and high in validation and validation[low] > validation[high]:
            raise DefinitionError(f"{path}.validation", f"{low} is greater than {high}")
    if "pattern" in validation:
        try:
            re.compile(validation["pattern"])
        except re.error as exc:
            raise DefinitionError(
                f"{path}.validation.pattern", f"not a valid regular expression: {exc}"
            ) from None
    elif "pattern_message" in validation:
        raise DefinitionError(f"{path}.validation.pattern_message", "there is no 'pattern'")
    if "min_date" in validation and "max_date" in validation:
        today = dt.date(2000, 1, 1)
        if relative_date(validation["min_date"], today) > relative_date(
            validation["max_date"], today
        ):
            raise DefinitionError(f"{path}.validation", "min_date is after max_date")
    if kind in _CHOICE_TYPES:
        _check_unique([choice["value"] for choice in field["choices"]], f"{path}.choices", "value")
        if validation.get("max_choices", 0) > len(field["choices"]):
            raise DefinitionError(
                f"{path}.validation.max_choices", "is larger than the number of choices"
            )
    if kind == "consent" and field.get("required") is False:
        raise DefinitionError(f"{path}.required", "a consent is always required")
    if "prefill" in field:
        _check_prefill(field["prefill"], kind, f"{path}.prefill", relation=relation)


def _check_prefill(source: str, kind: str, path: str, *, relation: str | None) -> None:
    if source.startswith("known."):
        _check_known(source, path, relation=relation)
        return
    if source not in PREFILL_SOURCES:
        known = ", ".join([*PREFILL_SOURCES, "known.<key>"])
        raise DefinitionError(path, f"unknown prefill source '{source}' (known: {known})")
    if source.startswith("beneficiary.") and relation in (None, "self"):
        raise DefinitionError(path, _no_beneficiary_message(source, relation))
    if kind not in PREFILL_SOURCES[source]:
        types = ", ".join(sorted(PREFILL_SOURCES[source]))
        raise DefinitionError(path, f"'{source}' cannot fill a {kind} field (only: {types})")


def _no_beneficiary_message(path: str, relation: str | None) -> str:
    if relation == "self":
        return f"'{path}' is not available when the beneficiary is the applicant: use profile.*"
    return f"'{path}' needs a 'beneficiary' in the definition"


def _check_known(path_text: str, path: str, *, relation: str | None) -> None:
    key = path_text.removeprefix("known.")
    if not KNOWN_KEY.fullmatch(key):
        raise DefinitionError(path, f"'{path_text}' is not a valid known attribute key")
    if key.startswith("beneficiary.") and relation in (None, "self"):
        raise DefinitionError(path, _no_beneficiary_message(path_text, relation))


def _check_condition(
    condition: Mapping[str, Any],
    path: str,
    *,
    fields: Mapping[str, _FieldInfo],
    relation: str | None,
    before: str | None = None,
    later: Collection[str] = (),
) -> None:
    """Every path of `condition` must name something that exists; with `before` (a field's
    `when`), `data.<name>` may only name a field that comes earlier than that field."""
    for combinator in _COMBINATORS:
        if combinator in condition:
            parts = condition[combinator]
            items = parts if isinstance(parts, list) else [parts]
            for index, part in enumerate(items):
                sub = f"{path}.{combinator}" + (f"[{index}]" if isinstance(parts, list) else "")
                _check_condition(
                    part, sub, fields=fields, relation=relation, before=before, later=later
                )
            return
    target = condition["path"]
    where = f"{path}.path"
    head = target.split(".", 1)[0]
    if head == "data":
        name = target.removeprefix("data.")
        if name == before:
            raise DefinitionError(where, f"field '{name}' cannot depend on its own answer")
        if name not in fields and name in later:
            raise DefinitionError(
                where,
                f"field '{name}' comes after '{before}': a condition can only use the answers "
                "to fields that come before it",
            )
        if name not in fields:
            known = ", ".join(fields) or "none"
            raise DefinitionError(where, f"'{target}' names no field '{name}' (fields: {known})")
        _check_value_for_field(condition, fields[name].field, path)
    elif head == "known":
        _check_known(target, where, relation=relation)
    elif head == "beneficiary" and target in BENEFICIARY_PATHS:
        if relation in (None, "self"):
            raise DefinitionError(where, _no_beneficiary_message(target, relation))
    elif target not in CITIZEN_PATHS:
        paths = ", ".join(
            ["data.<field>", *sorted(BENEFICIARY_PATHS | CITIZEN_PATHS), "known.<key>"]
        )
        raise DefinitionError(where, f"unknown path '{target}' (known: {paths})")


def _check_value_for_field(
    condition: Mapping[str, Any], field: Mapping[str, Any], path: str
) -> None:
    """A comparison with a yes/no or choice field must use values that field can hold:
    a typo there would make a rule that never holds."""
    if "value" not in condition:
        return
    values = condition["value"] if isinstance(condition["value"], list) else [condition["value"]]
    if field["type"] in _BOOLEAN_TYPES and not all(isinstance(v, bool) for v in values):
        raise DefinitionError(
            f"{path}.value", f"'{field['name']}' is a yes/no answer: compare with true or false"
        )
    if field["type"] in _CHOICE_TYPES:
        choices = [choice["value"] for choice in field["choices"]]
        for value in values:
            if value not in choices:
                raise DefinitionError(
                    f"{path}.value",
                    f"{value!r} is not a choice of '{field['name']}' ({', '.join(choices)})",
                )


def _check_workflow(workflow: Mapping[str, Any]) -> None:
    states: Mapping[str, Mapping[str, Any]] = workflow["states"]
    if DRAFT in states:
        raise DefinitionError(
            f"workflow.states.{DRAFT}", f"'{DRAFT}' is reserved for applications not yet submitted"
        )
    initial = workflow["initial"]
    if initial not in states:
        raise DefinitionError("workflow.initial", f"'{initial}' is not one of the states")
    if states[initial]["kind"] == "final":
        raise DefinitionError("workflow.initial", f"the initial state '{initial}' is final")
    if WITHDRAWN not in states:
        raise DefinitionError(
            "workflow.states", f"a '{WITHDRAWN}' state is required (citizens may always withdraw)"
        )
    if states[WITHDRAWN]["kind"] != "final" or states[WITHDRAWN].get("outcome") != WITHDRAWN:
        raise DefinitionError(
            f"workflow.states.{WITHDRAWN}", "must be a final state with outcome 'withdrawn'"
        )
    edges: dict[str, set[str]] = {name: set() for name in states}
    citizen_exits: set[str] = set()
    _check_unique([t["name"] for t in workflow["transitions"]], "workflow.transitions", "name")
    for index, transition in enumerate(workflow["transitions"]):
        path = f"workflow.transitions[{index}]"
        for place, target in [*(("from", s) for s in transition["from"]), ("to", transition["to"])]:
            if target not in states:
                raise DefinitionError(
                    f"{path}.{place}",
                    f"transition '{transition['name']}' uses the unknown state '{target}'",
                )
        for source in transition["from"]:
            if states[source]["kind"] == "final":
                raise DefinitionError(
                    f"{path}.from",
                    f"transition '{transition['name']}' leaves the final state '{source}'",
                )
            edges[source].add(transition["to"])
            if "citizen" in transition["roles"]:
                citizen_exits.add(source)
    for name, state in states.items():
        if state["kind"] != "final" and not edges[name]:
            raise DefinitionError(
                f"workflow.states.{name}",
                f"'{name}' is not final but no transition leaves it (mark it kind: final)",
            )
        if state["kind"] == "waiting_citizen" and name not in citizen_exits:
            raise DefinitionError(
                f"workflow.states.{name}",
                f"'{name}' waits for the citizen but no citizen transition leaves it",
            )
    silence = (workflow.get("deadlines") or {}).get("silence")
    if silence:
        outcome = silence["outcome"]
        target = states.get(outcome)
        if target is None or target["kind"] != "final" or target["outcome"] == WITHDRAWN:
            raise DefinitionError(
                "workflow.deadlines.silence.outcome",
                f"'{outcome}' must be a final state that accepts or refuses",
            )
        edges[initial].add(outcome)
    reached = {initial}
    todo = [initial]
    while todo:
        for target in edges[todo.pop()]:
            if target not in reached:
                reached.add(target)
                todo.append(target)
    unreachable = [name for name in states if name not in reached]
    if unreachable:
        raise DefinitionError(
            f"workflow.states.{unreachable[0]}",
            f"state '{unreachable[0]}' cannot be reached from '{initial}'",
        )
    if "grant" in workflow and not any(s.get("outcome") == "accepted" for s in states.values()):
        raise DefinitionError("workflow.grant", "a grant needs a final state with outcome accepted")


def relative_date(spec: str, today: dt.date) -> dt.date:
    """`today`, `-18y`, `+30d`, `+6m`, `+2w` from `today`, or an ISO date (ValueError otherwise).
    A year or month offset landing on a missing day (29 February) takes the month's last day."""
    match = RELATIVE_DATE.fullmatch(spec)
    if match is None:
        raise ValueError(f"not a relative date: {spec!r}")
    is_today, sign, amount, unit, iso = match.groups()
    if is_today:
        return today
    if iso:
        return dt.date.fromisoformat(iso)
    count = int(amount) * (-1 if sign == "-" else 1)
    if unit in "dw":
        return today + dt.timedelta(days=count * (7 if unit == "w" else 1))
    months = today.year * 12 + today.month - 1 + count * (12 if unit == "y" else 1)
    year, month = divmod(months, 12)
    year = min(max(year, 1), 9999)
    day = min(today.day, calendar.monthrange(year, month + 1)[1])
    return dt.date(year, month + 1, day)


# --- checksum and loading ------------------------------------------------------------------


def definition_checksum(definition: Mapping[str, Any]) -> str:
    """sha256 of the canonical JSON (sorted keys, no spaces, UTF-8)."""
    canonical = json.dumps(definition, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def procedures_load(
    *,
    directory: Path | str | None = None,
    on_error: Callable[[DefinitionError], None] | None = None,
) -> dict[str, int]:
    """Load every `*.yaml` of `directory` (default `VILLE_CATALOGUE_DIR/procedures`).

    Idempotent: an unchanged file adds nothing; a changed one adds a version (number + 1)
    and makes it current. Each file is loaded whole or not at all; a bad file does not stop
    the others. Errors go to `on_error`; without it, DefinitionLoadFailed is raised at the
    end (after the good files are loaded). Returns counts: files, procedures (created),
    versions (created), unchanged, failed.
    """
    folder = Path(directory) if directory is not None else procedures_dir()
    counts = {"files": 0, "procedures": 0, "versions": 0, "unchanged": 0, "failed": 0}
    errors: list[DefinitionError] = []
    if not folder.is_dir():
        errors.append(DefinitionError("", "no such folder", source=str(folder)))
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        counts["files"] += 1
        try:
            procedure_created, version_created = _load_file(path)
        except DefinitionError as exc:
            counts["failed"] += 1
            errors.append(exc)
            continue
        counts["procedures"] += procedure_created
        counts["versions"] += version_created
        counts["unchanged"] += not version_created
    if errors:
        if on_error is None:
            raise DefinitionLoadFailed(errors, counts)
        for error in errors:
            on_error(error)
    return counts


def procedures_dir() -> Path:
    return Path(settings.VILLE_CATALOGUE_DIR) / "procedures"


def _load_file(path: Path) -> tuple[bool, bool]:
    from ville.territory.models import Service

    source = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DefinitionError("", f"cannot be read as UTF-8 text: {exc}", source=source) from exc
    definition = definition_parse(text, source=source)
    if definition["slug"] != path.stem:
        raise DefinitionError(
            "slug",
            f"'{definition['slug']}' differs from the file name '{path.stem}'",
            source=source,
        )
    service = Service.objects.filter(code=definition["service"]).first()
    if service is None:
        raise DefinitionError(
            "service",
            f"no territory service has the code '{definition['service']}' "
            "(is the territory loaded? see src/ville/territory/data/services.json)",
            source=source,
        )
    checksum = definition_checksum(definition)
    with transaction.atomic():
        procedure, created = Procedure.objects.select_for_update().get_or_create(
            slug=definition["slug"], defaults={"service": service}
        )
        if procedure.service_id != service.pk:
            procedure.service = service
            procedure.save(update_fields=["service", "updated_at"])
        version = procedure.versions.filter(checksum=checksum).first()
        version_created = version is None
        if version is None:
            last = procedure.versions.aggregate(last=Max("number"))["last"] or 0
            version = ProcedureVersion.objects.create(
                procedure=procedure, number=last + 1, checksum=checksum, definition=definition
            )
        if procedure.current_version_id != version.pk:
            # A file put back to an earlier content makes that earlier version current again.
            procedure.current_version = version
            procedure.save(update_fields=["current_version", "updated_at"])
    return created, version_created


# --- reading -------------------------------------------------------------------------------


class LocalText(str):
    """A text in the language asked for, or in French when that translation is missing
    (`is_fallback`, so that the page can say so); `lang` is the language it is really in."""

    lang: str
    is_fallback: bool

    def __new__(cls, value: str, *, lang: str, is_fallback: bool = False) -> LocalText:
        text = super().__new__(cls, value)
        text.lang = lang
        text.is_fallback = is_fallback
        return text


def text_in(translated: Mapping[str, str] | None, lang: str | None) -> LocalText:
    """`translated[lang]`, else French (flagged as a fallback); empty when there is no text."""
    if not translated:
        return LocalText("", lang=lang or FALLBACK_LANGUAGE)
    code = (lang or FALLBACK_LANGUAGE).split("-")[0].lower()
    if translated.get(code):
        return LocalText(translated[code], lang=code)
    return LocalText(
        translated.get(FALLBACK_LANGUAGE, ""),
        lang=FALLBACK_LANGUAGE,
        is_fallback=code != FALLBACK_LANGUAGE,
    )


class Definition:
    """Read-only view of one parsed definition (the dict stays available as `raw`)."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = raw
        self._steps: dict[str, Mapping[str, Any]] = {step["id"]: step for step in raw["steps"]}
        self._fields: dict[str, Mapping[str, Any]] = {
            field["name"]: field for step in raw["steps"] for field in step["fields"]
        }

    def __repr__(self) -> str:
        return f"<Definition {self.slug}>"

    @property
    def slug(self) -> str:
        return str(self.raw["slug"])

    @property
    def service_code(self) -> str:
        return str(self.raw["service"])

    @property
    def title(self) -> Mapping[str, str]:
        return self.raw["title"]

    @property
    def summary(self) -> Mapping[str, str] | None:
        return self.raw.get("summary")

    @property
    def beneficiary(self) -> Mapping[str, Any] | None:
        """`{relation, label, …}`, or None when the application is for nobody in particular."""
        return self.raw.get("beneficiary")

    @property
    def eligibility(self) -> list[Mapping[str, Any]]:
        return list(self.raw.get("eligibility") or [])

    @property
    def documents(self) -> list[Mapping[str, Any]]:
        return list(self.raw.get("documents") or [])

    @property
    def steps(self) -> list[Mapping[str, Any]]:
        return list(self.raw["steps"])

    @property
    def step_ids(self) -> list[str]:
        return list(self._steps)

    def step(self, step_id: str) -> Mapping[str, Any]:
        """The step `step_id` (KeyError when the definition has none by that id)."""
        return self._steps[step_id]

    def step_index(self, step_id: str) -> int:
        return self.step_ids.index(step_id)

    def fields(self, step_id: str | None = None) -> list[Mapping[str, Any]]:
        """The fields of one step, or of every step in order."""
        if step_id is None:
            return list(self._fields.values())
        return list(self._steps[step_id]["fields"])

    def field(self, name: str) -> Mapping[str, Any]:
        """The field `name` (KeyError when there is none)."""
        return self._fields[name]

    @property
    def workflow(self) -> Mapping[str, Any]:
        return self.raw["workflow"]

    @staticmethod
    def text(translated: Mapping[str, str] | None, lang: str | None) -> LocalText:
        return text_in(translated, lang)


# Versions never change once written, so a parsed view can live as long as the process.
# The checksum is part of the key because ids can be reused after a rollback (SQLite tests).
_VERSION_CACHE: dict[tuple[int, str], Definition] = {}
_VERSION_CACHE_SIZE = 512


def definition_of(version: ProcedureVersion) -> Definition:
    """The definition a version was filed under, parsed once per process."""
    key = (version.pk, version.checksum)
    found = _VERSION_CACHE.get(key)
    if found is None:
        if len(_VERSION_CACHE) >= _VERSION_CACHE_SIZE:
            _VERSION_CACHE.clear()
        found = _VERSION_CACHE[key] = Definition(version.definition)
    return found
