"""Definitions: every malformed kind is refused with the file and the path, the real files
load, reloading is a no-op, a change makes a new version that old applications ignore."""

from __future__ import annotations

import copy
import datetime as dt
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import CommandError, call_command

from tests.factories import UserFactory
from tests.procedures.conftest import CATALOGUE, OWN_DEFINITIONS, minimal_definition
from ville.procedures.definitions import (
    LANGUAGES,
    Definition,
    DefinitionError,
    DefinitionLoadFailed,
    definition_checksum,
    definition_of,
    definition_parse,
    definition_schema,
    procedures_load,
    relative_date,
    text_in,
)
from ville.procedures.models import Application, Procedure, ProcedureVersion
from ville.territory.models import Service

pytestmark = pytest.mark.django_db


def _states(d: dict[str, Any]) -> dict[str, Any]:
    return d["workflow"]["states"]


def _transitions(d: dict[str, Any]) -> list[dict[str, Any]]:
    return d["workflow"]["transitions"]


def _field(d: dict[str, Any], index: int = 0) -> dict[str, Any]:
    return d["steps"][0]["fields"][index]


def _with_beneficiary(d: dict[str, Any]) -> None:
    d["beneficiary"] = {"relation": "child", "label": {"fr": "Quel enfant ?"}}


# Each case: what to break, where the error must point, words the message must contain.
Breaker = Callable[[dict[str, Any]], None]
MALFORMED: list[tuple[str, Breaker, str, str]] = [
    (
        "missing fr",
        lambda d: d.update(title={"en": "Title"}),
        "title",
        "French text ('fr') is missing",
    ),
    (
        "empty fr",
        lambda d: _field(d).update(label={"fr": ""}),
        "steps[0].fields[0].label.fr",
        "",
    ),
    (
        "unknown language",
        lambda d: d["title"].update(de="Titel"),
        "title",
        "unknown key 'de'",
    ),
    (
        "unknown field type",
        lambda d: _field(d).update(type="signature"),
        "steps[0].fields[0].type",
        "'signature' is not one of",
    ),
    ("unknown top-level key", lambda d: d.update(colour="blue"), "(top level)", "'colour'"),
    ("missing workflow", lambda d: d.pop("workflow"), "(top level)", "'workflow' is missing"),
    (
        "choice without choices",
        lambda d: _field(d).update(type="choice"),
        "steps[0].fields[0]",
        "'choices' is missing",
    ),
    (
        "choices on a text field",
        lambda d: _field(d).update(choices=[{"value": "a", "label": {"fr": "A"}}]),
        "steps[0].fields[0]",
        "only choice and multiple_choice",
    ),
    (
        "bad transition target",
        lambda d: _transitions(d)[1].update(to="granted"),
        "workflow.transitions[1].to",
        "unknown state 'granted'",
    ),
    (
        "bad transition source",
        lambda d: _transitions(d)[0].update({"from": ["nowhere"]}),
        "workflow.transitions[0].from",
        "unknown state 'nowhere'",
    ),
    (
        "unreachable state",
        lambda d: _states(d).update(
            refused={"kind": "final", "outcome": "refused", "label": {"fr": "Refusée"}}
        ),
        "workflow.states.refused",
        "cannot be reached from 'submitted'",
    ),
    (
        "unknown initial state",
        lambda d: d["workflow"].update(initial="received"),
        "workflow.initial",
        "'received' is not one of the states",
    ),
    (
        "final initial state",
        lambda d: d["workflow"].update(initial="accepted"),
        "workflow.initial",
        "is final",
    ),
    (
        "transition out of a final state",
        lambda d: _transitions(d).append(
            {"name": "reopen", "from": ["accepted"], "to": "in_review", "roles": ["agent"]}
        ),
        "workflow.transitions[3].from",
        "leaves the final state 'accepted'",
    ),
    (
        "open state without a way out",
        lambda d: (_transitions(d).pop(1), _transitions(d)[1].update({"from": ["submitted"]})),
        "workflow.states.in_review",
        "no transition leaves it",
    ),
    (
        "no withdrawn state",
        lambda d: (_states(d).pop("withdrawn"), _transitions(d).pop(2)),
        "workflow.states",
        "'withdrawn' state is required",
    ),
    (
        "withdrawn not final",
        lambda d: _states(d)["withdrawn"].update(kind="open", outcome=None),
        "workflow.states.withdrawn",
        "",
    ),
    (
        "withdrawn with another outcome",
        lambda d: _states(d)["withdrawn"].update(outcome="refused"),
        "workflow.states.withdrawn",
        "outcome 'withdrawn'",
    ),
    (
        "draft is reserved",
        lambda d: _states(d).update(draft={"kind": "open", "label": {"fr": "Brouillon"}}),
        "workflow.states.draft",
        "reserved",
    ),
    (
        "silence leads to an open state",
        lambda d: d["workflow"].update(
            deadlines={"silence": {"after_days": 60, "outcome": "in_review"}}
        ),
        "workflow.deadlines.silence.outcome",
        "final state",
    ),
    (
        "silence leads to withdrawal",
        lambda d: d["workflow"].update(
            deadlines={"silence": {"after_days": 60, "outcome": "withdrawn"}}
        ),
        "workflow.deadlines.silence.outcome",
        "accepts or refuses",
    ),
    (
        "waiting for the citizen with no citizen way out",
        lambda d: (
            _states(d).update(asked={"kind": "waiting_citizen", "label": {"fr": "Demandé"}}),
            _transitions(d).append(
                {"name": "ask", "from": ["in_review"], "to": "asked", "roles": ["agent"]}
            ),
            _transitions(d).append(
                {"name": "close", "from": ["asked"], "to": "accepted", "roles": ["agent"]}
            ),
        ),
        "workflow.states.asked",
        "no citizen transition",
    ),
    (
        "duplicate transition name",
        lambda d: _transitions(d).append(dict(_transitions(d)[0])),
        "workflow.transitions[3].name",
        "already used",
    ),
    (
        "unknown role",
        lambda d: _transitions(d)[0].update(roles=["mayor"]),
        "workflow.transitions[0].roles[0]",
        "not one of",
    ),
    (
        "unknown prefill source",
        lambda d: _field(d).update(prefill="profile.shoe_size"),
        "steps[0].fields[0].prefill",
        "unknown prefill source 'profile.shoe_size'",
    ),
    (
        "prefill of the wrong type",
        lambda d: _field(d).update(prefill="profile.birth_date"),
        "steps[0].fields[0].prefill",
        "cannot fill a text field",
    ),
    (
        "beneficiary prefill without beneficiary",
        lambda d: _field(d).update(prefill="beneficiary.first_name"),
        "steps[0].fields[0].prefill",
        "needs a 'beneficiary'",
    ),
    (
        "condition on an unknown field",
        lambda d: _field(d, 1).update(when={"path": "data.nickname", "op": "truthy"}),
        "steps[0].fields[1].when.path",
        "names no field 'nickname'",
    ),
    (
        "condition on a later field",
        lambda d: _field(d, 0).update(when={"path": "data.agree", "op": "truthy"}),
        "steps[0].fields[0].when.path",
        "field 'agree' comes after 'first_name'",
    ),
    (
        "condition on itself",
        lambda d: _field(d, 0).update(when={"path": "data.first_name", "op": "truthy"}),
        "steps[0].fields[0].when.path",
        "its own answer",
    ),
    (
        "nested condition on an unknown path",
        lambda d: _field(d, 1).update(
            when={"all": [{"not": {"path": "citizen.shoe_size", "op": "truthy"}}]}
        ),
        "steps[0].fields[1].when.all[0].not.path",
        "unknown path 'citizen.shoe_size'",
    ),
    (
        "eligibility on an unknown field",
        lambda d: d.update(
            eligibility=[
                {
                    "condition": {"path": "data.income", "op": "lt", "value": 100},
                    "explanation": {"fr": "Revenus"},
                }
            ]
        ),
        "eligibility[0].condition.path",
        "names no field 'income'",
    ),
    (
        "beneficiary path without beneficiary",
        lambda d: d.update(
            eligibility=[
                {
                    "condition": {"path": "beneficiary.age_years", "op": "lt", "value": 3},
                    "explanation": {"fr": "Âge"},
                }
            ]
        ),
        "eligibility[0].condition.path",
        "needs a 'beneficiary'",
    ),
    (
        "not a condition at all",
        lambda d: _field(d, 1).update(when={"if": "data.first_name"}),
        "steps[0].fields[1].when",
        "a condition is {path, op, value}",
    ),
    (
        "unknown operator",
        lambda d: _field(d, 1).update(when={"path": "data.first_name", "op": "like"}),
        "steps[0].fields[1].when.op",
        "'like' is not one of: eq, ne",
    ),
    (
        "truthy with a value",
        lambda d: _field(d, 1).update(when={"path": "data.first_name", "op": "truthy", "value": 1}),
        "steps[0].fields[1].when",
        "truthy and falsy take no 'value'",
    ),
    (
        "between with one bound",
        lambda d: _field(d, 1).update(
            when={"path": "data.first_name", "op": "between", "value": [1]}
        ),
        "steps[0].fields[1].when.value",
        "too short",
    ),
    (
        "duplicate step id",
        lambda d: d["steps"].append(
            {
                "id": "main",
                "title": {"fr": "Encore"},
                "fields": [{"name": "other", "type": "text", "label": {"fr": "Autre"}}],
            }
        ),
        "steps[1].id",
        "already used by steps[0]",
    ),
    (
        "duplicate field name",
        lambda d: d["steps"][0]["fields"].append(
            {"name": "first_name", "type": "text", "label": {"fr": "Encore"}}
        ),
        "steps[0].fields[2].name",
        "already used at steps[0].fields[0]",
    ),
    (
        "validation that does not apply",
        lambda d: _field(d).update(validation={"max_size_mb": 2}),
        "steps[0].fields[0].validation.max_size_mb",
        "does not apply to a text field",
    ),
    (
        "bad regular expression",
        lambda d: _field(d).update(validation={"pattern": "([a-z]"}),
        "steps[0].fields[0].validation.pattern",
        "not a valid regular expression",
    ),
    (
        "min above max",
        lambda d: _field(d).update(validation={"min_length": 10, "max_length": 2}),
        "steps[0].fields[0].validation",
        "min_length is greater than max_length",
    ),
    (
        "bad relative date",
        lambda d: _field(d).update(type="date", validation={"min_date": "yesterday"}),
        "steps[0].fields[0].validation.min_date",
        "expected form",
    ),
    (
        "consent that is optional",
        lambda d: _field(d, 1).update(required=False),
        "steps[0].fields[1].required",
        "always required",
    ),
    (
        "file larger than 10 MB",
        lambda d: _field(d).update(type="file", validation={"max_size_mb": 50}),
        "steps[0].fields[0].validation.max_size_mb",
        "",
    ),
]


@pytest.mark.parametrize(
    ("breaker", "path", "words"),
    [pytest.param(b, p, w, id=name) for name, b, p, w in MALFORMED],
)
def test_a_malformed_definition_is_refused_with_its_path(
    breaker: Breaker, path: str, words: str
) -> None:
    definition = minimal_definition()
    definition_parse(copy.deepcopy(definition))  # the unbroken one is valid
    breaker(definition)
    with pytest.raises(DefinitionError) as caught:
        definition_parse(definition, source="broken.yaml")
    assert caught.value.source == "broken.yaml"
    assert caught.value.path == path, str(caught.value)
    assert words in caught.value.message
    assert str(caught.value).startswith(f"broken.yaml: {path}: ")


def test_a_choice_condition_must_use_a_value_of_that_choice() -> None:
    definition = minimal_definition(
        fields=[
            {
                "name": "diet",
                "type": "choice",
                "label": {"fr": "Menu"},
                "choices": [{"value": "standard", "label": {"fr": "Standard"}}],
            },
            {
                "name": "details",
                "type": "text",
                "label": {"fr": "Détails"},
                "when": {"path": "data.diet", "op": "eq", "value": "vegan"},
            },
        ]
    )
    with pytest.raises(DefinitionError, match="'vegan' is not a choice of 'diet'"):
        definition_parse(definition)


def test_a_yes_no_condition_must_compare_with_a_boolean() -> None:
    definition = minimal_definition(
        fields=[
            {"name": "allergy", "type": "yes_no", "label": {"fr": "Allergie"}},
            {
                "name": "details",
                "type": "text",
                "label": {"fr": "Détails"},
                "when": {"path": "data.allergy", "op": "eq", "value": "yes"},
            },
        ]
    )
    with pytest.raises(DefinitionError, match="compare with true or false"):
        definition_parse(definition)


def test_a_self_beneficiary_has_no_beneficiary_paths() -> None:
    definition = minimal_definition(
        beneficiary={"relation": "self", "label": {"fr": "Vous"}},
        eligibility=[
            {
                "condition": {"path": "beneficiary.age_years", "op": "gte", "value": 18},
                "explanation": {"fr": "Majeur"},
            }
        ],
    )
    with pytest.raises(DefinitionError, match=r"use profile\.\*"):
        definition_parse(definition)


def test_known_beneficiary_keys_and_school_fields_are_accepted() -> None:
    definition = minimal_definition(
        fields=[
            {"name": "school", "type": "school", "label": {"fr": "École"}},
            {
                "name": "allergies",
                "type": "long_text",
                "label": {"fr": "Allergies"},
                "prefill": "known.beneficiary.allergies",
                "when": {"path": "known.family_quotient", "op": "falsy"},
            },
        ]
    )
    _with_beneficiary(definition)
    definition["steps"][0]["fields"][0]["prefill"] = "beneficiary.school"
    assert definition_parse(definition)["steps"][0]["fields"][0]["type"] == "school"


def test_invalid_yaml_names_the_line() -> None:
    text = "slug: x\ntitle: {fr: Quels repas ?, en: Meals?}\n"
    with pytest.raises(DefinitionError) as caught:
        definition_parse(text, source="meals.yaml")
    assert caught.value.path == "line 2"
    assert "not valid YAML" in str(caught.value)


def test_a_key_given_twice_in_yaml_is_refused() -> None:
    text = yaml.safe_dump(minimal_definition(), allow_unicode=True) + "slug: again\n"
    with pytest.raises(DefinitionError, match="'slug' is given twice"):
        definition_parse(text)


def test_a_yaml_date_where_text_is_expected_is_refused() -> None:
    definition = minimal_definition()
    _field(definition).update(type="date", validation={"min_date": "today"})
    text = yaml.safe_dump(definition, allow_unicode=True).replace("today", "2026-01-01")
    with pytest.raises(DefinitionError) as caught:
        definition_parse(text)
    assert caught.value.path == "steps[0].fields[0].validation.min_date"


def test_a_list_is_not_a_definition() -> None:
    with pytest.raises(DefinitionError, match="must be a mapping"):
        definition_parse("- a\n- b\n")


def test_the_schema_is_draft_2020_12() -> None:
    schema = definition_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert "school" in schema["$defs"]["field"]["properties"]["type"]["enum"]


# --- the real files --------------------------------------------------------------------


def _translated_texts(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, str]]]:
    if isinstance(node, dict):
        if "fr" in node and all(isinstance(v, str) for v in node.values()):
            yield path, node
            return
        for key, value in node.items():
            yield from _translated_texts(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _translated_texts(value, f"{path}[{index}]")


@pytest.mark.parametrize("slug", OWN_DEFINITIONS)
def test_each_own_definition_is_valid_and_in_five_languages(slug: str) -> None:
    path = CATALOGUE / f"{slug}.yaml"
    definition = definition_parse(path.read_text(encoding="utf-8"), source=path.name)
    assert definition["slug"] == slug
    texts = list(_translated_texts(definition))
    assert len(texts) > 30
    for where, text in texts:
        assert set(text) == set(LANGUAGES), f"{slug}{where} lacks {set(LANGUAGES) - set(text)}"
        assert all(value.strip() for value in text.values()), f"{slug}{where} has an empty text"


def test_the_definitions_use_the_services_of_the_territory() -> None:
    expected = {
        "canteen-registration": "education",
        "creche-application": "creche",
        "residential-parking-permit": "stationnement",
    }
    for slug, service in expected.items():
        parsed = definition_parse((CATALOGUE / f"{slug}.yaml").read_text(encoding="utf-8"))
        assert parsed["service"] == service
    parking = definition_parse(
        (CATALOGUE / "residential-parking-permit.yaml").read_text(encoding="utf-8")
    )
    assert parking["workflow"]["grant"] == {"valid_for_days": 365}


# --- loading -------------------------------------------------------------------------------


def test_the_three_files_load_and_reloading_changes_nothing(
    territory: dict[str, int], catalogue_dir: Path
) -> None:
    counts = procedures_load(directory=catalogue_dir)
    assert counts == {"files": 3, "procedures": 3, "versions": 3, "unchanged": 0, "failed": 0}
    canteen = Procedure.objects.select_related("service", "current_version").get(
        slug="canteen-registration"
    )
    assert canteen.service.code == "education"
    assert canteen.current_version is not None
    assert canteen.current_version.number == 1
    assert canteen.current_version.checksum == definition_checksum(
        canteen.current_version.definition
    )
    stamp = canteen.updated_at

    again = procedures_load(directory=catalogue_dir)
    assert again == {"files": 3, "procedures": 0, "versions": 0, "unchanged": 3, "failed": 0}
    assert ProcedureVersion.objects.count() == 3
    canteen.refresh_from_db()
    assert canteen.updated_at == stamp


def test_a_changed_file_makes_version_2_and_old_applications_keep_version_1(
    territory: dict[str, int], catalogue_dir: Path
) -> None:
    procedures_load(directory=catalogue_dir)
    procedure = Procedure.objects.get(slug="residential-parking-permit")
    v1 = procedure.current_version
    assert v1 is not None
    citizen = UserFactory()
    application = Application.objects.create(
        procedure=procedure, version=v1, service=procedure.service, citizen=citizen
    )
    path = catalogue_dir / "residential-parking-permit.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("valid_for_days: 365", "valid_for_days: 730"),
        encoding="utf-8",
    )

    counts = procedures_load(directory=catalogue_dir)

    assert counts["versions"] == 1 and counts["unchanged"] == 2
    procedure.refresh_from_db()
    v2 = procedure.current_version
    assert v2 is not None and v2.number == 2 and v2.pk != v1.pk
    assert v2.definition["workflow"]["grant"]["valid_for_days"] == 730
    application.refresh_from_db()
    assert application.version_id == v1.pk
    assert definition_of(application.version).workflow["grant"]["valid_for_days"] == 365
    assert definition_of(v2).workflow["grant"]["valid_for_days"] == 730

    # Putting the file back makes version 1 current again, without a third version.
    path.write_text(
        path.read_text(encoding="utf-8").replace("valid_for_days: 730", "valid_for_days: 365"),
        encoding="utf-8",
    )
    assert procedures_load(directory=catalogue_dir)["versions"] == 0
    procedure.refresh_from_db()
    assert procedure.current_version_id == v1.pk
    assert procedure.versions.count() == 2


def test_one_bad_file_is_reported_and_the_others_load(
    territory: dict[str, int], catalogue_dir: Path
) -> None:
    bad = catalogue_dir / "creche-application.yaml"
    bad.write_text(
        bad.read_text(encoding="utf-8").replace("to: committee", "to: commitee", 1),
        encoding="utf-8",
    )
    (catalogue_dir / "other-slug.yaml").write_text(
        yaml.safe_dump(minimal_definition(), allow_unicode=True), encoding="utf-8"
    )
    errors: list[DefinitionError] = []

    counts = procedures_load(directory=catalogue_dir, on_error=errors.append)

    assert counts["failed"] == 2 and counts["procedures"] == 2
    messages = sorted(str(error) for error in errors)
    assert messages[0].startswith("creche-application.yaml: workflow.transitions[")
    assert "unknown state 'commitee'" in messages[0]
    assert messages[1].startswith("other-slug.yaml: slug: 'test-procedure' differs")
    assert set(Procedure.objects.values_list("slug", flat=True)) == {
        "canteen-registration",
        "residential-parking-permit",
    }


def test_without_an_error_handler_the_load_raises_after_loading_the_good_files(
    territory: dict[str, int], catalogue_dir: Path
) -> None:
    (catalogue_dir / "test-procedure.yaml").write_text(
        yaml.safe_dump(minimal_definition(service="no-such-service"), allow_unicode=True),
        encoding="utf-8",
    )
    with pytest.raises(DefinitionLoadFailed) as caught:
        procedures_load(directory=catalogue_dir)
    assert "test-procedure.yaml: service: no territory service has the code 'no-such-service'" in (
        str(caught.value)
    )
    assert caught.value.counts["procedures"] == 3
    assert Procedure.objects.count() == 3


def test_a_missing_service_rolls_back_nothing_else(catalogue_dir: Path, db: None) -> None:
    errors: list[DefinitionError] = []
    counts = procedures_load(directory=catalogue_dir, on_error=errors.append)
    assert counts["failed"] == 3
    assert all("is the territory loaded?" in str(error) for error in errors)
    assert not Procedure.objects.exists() and not ProcedureVersion.objects.exists()


def test_the_service_may_change_with_the_file(
    territory: dict[str, int], catalogue_dir: Path
) -> None:
    procedures_load(directory=catalogue_dir)
    path = catalogue_dir / "canteen-registration.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("service: education", "service: accueil"),
        encoding="utf-8",
    )
    procedures_load(directory=catalogue_dir)
    assert Procedure.objects.get(slug="canteen-registration").service.code == "accueil"


def test_a_missing_folder_is_an_error(tmp_path: Path, db: None) -> None:
    with pytest.raises(DefinitionLoadFailed, match="no such folder"):
        procedures_load(directory=tmp_path / "nowhere")


def test_the_default_folder_is_the_repository_catalogue(settings: Any) -> None:
    from ville.procedures.definitions import procedures_dir

    assert procedures_dir() == CATALOGUE
    settings.VILLE_CATALOGUE_DIR = Path("/srv/catalogue")
    assert procedures_dir() == Path("/srv/catalogue/procedures")


def test_the_command_prints_counts(territory: dict[str, int], catalogue_dir: Path) -> None:
    out = io.StringIO()
    call_command("load_procedures", directory=catalogue_dir, stdout=out)
    assert "3 files, 3 new procedures, 3 new versions, 0 unchanged, 0 failed" in out.getvalue()


def test_the_command_fails_and_names_the_bad_file(
    territory: dict[str, int], catalogue_dir: Path
) -> None:
    (catalogue_dir / "broken.yaml").write_text("slug: [\n", encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match="1 definition file"):
        call_command("load_procedures", directory=catalogue_dir, stdout=out, stderr=err)
    assert "error: broken.yaml: line 2: not valid YAML" in err.getvalue()
    assert "3 new procedures" in out.getvalue()
    assert Procedure.objects.count() == 3


# --- reading -------------------------------------------------------------------------------


def test_the_definition_view() -> None:
    text = (CATALOGUE / "canteen-registration.yaml").read_text(encoding="utf-8")
    definition = Definition(definition_parse(text))
    assert definition.slug == "canteen-registration"
    assert definition.service_code == "education"
    assert definition.step_ids == ["child", "meals", "price", "confirm"]
    assert definition.step("meals")["fields"][0]["name"] == "days"
    assert [f["name"] for f in definition.fields("confirm")] == ["accurate", "rules_read"]
    assert definition.fields()[0]["name"] == "child_first_name"
    assert len(definition.fields()) == sum(len(s["fields"]) for s in definition.steps)
    assert definition.field("has_pai")["type"] == "yes_no"
    assert definition.workflow["initial"] == "submitted"
    assert definition.beneficiary is not None and definition.beneficiary["relation"] == "child"
    with pytest.raises(KeyError):
        definition.step("nope")
    with pytest.raises(KeyError):
        definition.field("nope")


def test_texts_fall_back_to_french_and_say_so() -> None:
    text = {"fr": "Bonjour", "ar": "مرحبا"}
    arabic = text_in(text, "ar")
    assert arabic == "مرحبا" and arabic.lang == "ar" and not arabic.is_fallback
    spanish = Definition.text(text, "es")
    assert spanish == "Bonjour" and spanish.lang == "fr" and spanish.is_fallback
    french = text_in(text, "fr")
    assert french == "Bonjour" and not french.is_fallback
    assert text_in(text, "en-gb").is_fallback
    assert text_in(None, "en") == ""


def test_definition_of_is_parsed_once_per_version(
    territory: dict[str, int], catalogue_dir: Path
) -> None:
    procedures_load(directory=catalogue_dir)
    version = ProcedureVersion.objects.get(procedure__slug="creche-application")
    first = definition_of(version)
    assert definition_of(ProcedureVersion.objects.get(pk=version.pk)) is first
    assert first.slug == "creche-application"


def test_the_checksum_ignores_key_order_but_not_content() -> None:
    definition = minimal_definition()
    reordered = dict(reversed(list(copy.deepcopy(definition).items())))
    assert definition_checksum(definition) == definition_checksum(reordered)
    assert len(definition_checksum(definition)) == 64
    definition["title"]["fr"] = "Autre titre"
    assert definition_checksum(definition) != definition_checksum(reordered)


def test_the_service_exists_for_every_own_definition(territory: dict[str, int]) -> None:
    codes = set(Service.objects.values_list("code", flat=True))
    assert {"education", "creche", "stationnement"} <= codes


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("today", dt.date(2024, 2, 29)),
        ("+30d", dt.date(2024, 3, 30)),
        ("-2w", dt.date(2024, 2, 15)),
        ("+9m", dt.date(2024, 11, 29)),
        ("-18y", dt.date(2006, 2, 28)),  # no 29 February in 2006
        ("+1y", dt.date(2025, 2, 28)),
        ("2025-01-31", dt.date(2025, 1, 31)),
    ],
)
def test_relative_dates(spec: str, expected: dt.date) -> None:
    assert relative_date(spec, dt.date(2024, 2, 29)) == expected


def test_a_relative_date_that_is_not_one() -> None:
    with pytest.raises(ValueError, match="not a relative date"):
        relative_date("tomorrow", dt.date(2024, 1, 1))
