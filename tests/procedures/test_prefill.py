"""Prefill: values from the profile, the household and the vault, each with where it comes
from, as JSON the forms accept; nothing the citizen did not agree to reuse."""

from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import timezone, translation

from tests.factories import HouseholdMemberFactory, UserFactory
from tests.procedures.conftest import CATALOGUE, minimal_definition
from ville.procedures.definitions import Definition, definition_parse
from ville.procedures.prefill import Prefilled, household_partner, known_key, prefill_for
from ville.vault.models import KnownAttribute

pytestmark = pytest.mark.django_db

VERIFIED = dt.datetime(2026, 1, 15, 10, 0, tzinfo=dt.UTC)


def _definition(slug: str) -> Definition:
    path = CATALOGUE / f"{slug}.yaml"
    return Definition(definition_parse(path.read_text(encoding="utf-8"), source=path.name))


def _every_source() -> Definition:
    fields: list[dict[str, Any]] = [
        {"name": "me_first", "type": "text", "prefill": "profile.first_name"},
        {"name": "me_last", "type": "text", "prefill": "profile.last_name"},
        {"name": "me_birth", "type": "date", "prefill": "profile.birth_date"},
        {"name": "me_email", "type": "email", "prefill": "profile.email"},
        {"name": "me_phone", "type": "phone", "prefill": "profile.phone"},
        {"name": "me_address", "type": "address", "prefill": "profile.address"},
        {"name": "child", "type": "household_member", "prefill": "beneficiary.id"},
        {"name": "child_first", "type": "text", "prefill": "beneficiary.first_name"},
        {"name": "child_last", "type": "text", "prefill": "beneficiary.last_name"},
        {"name": "child_birth", "type": "date", "prefill": "beneficiary.birth_date"},
        {"name": "child_school", "type": "school", "prefill": "beneficiary.school"},
        {"name": "partner", "type": "household_member", "prefill": "household.partner.id"},
        {"name": "partner_first", "type": "text", "prefill": "household.partner.first_name"},
        {"name": "partner_last", "type": "text", "prefill": "household.partner.last_name"},
        {"name": "quotient", "type": "number", "prefill": "known.family_quotient"},
        {"name": "caf", "type": "text", "prefill": "known.caf_number"},
        {"name": "income", "type": "number", "prefill": "known.income"},
        {"name": "allergies", "type": "long_text", "prefill": "known.beneficiary.allergies"},
        {"name": "no_source", "type": "text"},
    ]
    for field in fields:
        field["label"] = {"fr": field["name"]}
    definition = minimal_definition(fields=fields)
    definition["beneficiary"] = {"relation": "child", "label": {"fr": "Quel enfant ?"}}
    return Definition(definition_parse(definition))


@pytest.fixture
def vault(family: SimpleNamespace) -> None:
    citizen = family.citizen
    KnownAttribute.objects.create(
        citizen=citizen, key="family_quotient", value=812, source="caf", verified_at=VERIFIED
    )
    consented = KnownAttribute.objects.create(
        citizen=citizen,
        key="caf_number",
        value="1234567",
        source="citizen",
        reuse_consented_at=VERIFIED,
    )
    KnownAttribute.objects.filter(pk=consented.pk).update(updated_at=VERIFIED)
    # Neither verified nor agreed to: never reused.
    KnownAttribute.objects.create(citizen=citizen, key="income", value=21000, source="citizen")
    KnownAttribute.objects.create(
        citizen=citizen,
        key=f"child.{family.leo.pk}.allergies",
        value="Arachide",
        source="agent:infirmiere@example.org",
        verified_at=VERIFIED,
    )


def test_every_source_with_its_provenance(family: SimpleNamespace, vault: None) -> None:
    found = prefill_for(
        definition=_every_source(), citizen=family.citizen, beneficiary=family.leo, lang="fr"
    )
    values = {name: item.value for name, item in found.items()}
    assert values == {
        "me_first": "Camille",
        "me_last": "Martin",
        "me_birth": "1988-06-14",
        "me_email": "camille.test@example.org",
        "me_phone": "+33612345678",
        "me_address": family.address.pk,
        "child": str(family.leo.pk),
        "child_first": "Léo",
        "child_last": "Martin",
        "child_birth": "2017-09-20",
        "child_school": "elementaire-jean-jaures",
        "partner": str(family.partner.pk),
        "partner_first": "Sami",
        "partner_last": "Haddad",
        "quotient": 812,
        "caf": "1234567",
        "allergies": "Arachide",
    }
    json.dumps({name: item.as_dict() for name, item in found.items()})
    assert isinstance(found["me_first"], Prefilled)
    assert found["me_first"].source == "profile.first_name"
    assert found["child_school"].source == "beneficiary.school"
    assert found["partner_first"].source == "household.partner.first_name"
    assert found["quotient"].source == "known.family_quotient"
    assert found["quotient"].verified and not found["caf"].verified
    assert found["allergies"].source == "known.beneficiary.allergies"


def test_labels_say_where_values_come_from_in_the_language(
    family: SimpleNamespace, vault: None
) -> None:
    found = prefill_for(
        definition=_every_source(), citizen=family.citizen, beneficiary=family.leo, lang="en"
    )
    assert found["me_first"].label == "From your profile"
    assert found["child_first"].label == "From your household"
    assert found["partner_last"].label == "From your household"
    assert found["quotient"].label == "Known by the city (verified on Jan. 15, 2026)"
    assert found["caf"].label == "Known by the city (given on Jan. 15, 2026)"
    # Without `lang`, the active language.
    with translation.override("en"):
        again = prefill_for(
            definition=_every_source(), citizen=family.citizen, beneficiary=family.leo
        )
    assert again["me_first"].label == "From your profile"


def test_nothing_for_what_is_not_known(family: SimpleNamespace) -> None:
    stranger = UserFactory(first_name="", last_name="Solo", phone="", birth_date=None)
    found = prefill_for(definition=_every_source(), citizen=stranger, beneficiary=None)
    assert set(found) == {"me_last", "me_email"}
    assert household_partner(stranger) is None


def test_the_partner_is_never_the_citizen_herself(family: SimpleNamespace) -> None:
    # Sami has an account linked to his member row: his own row is not "the partner".
    sami = UserFactory(first_name="Sami", household=family.household)
    family.partner.user = sami
    family.partner.save()
    assert household_partner(sami) is None
    assert household_partner(family.citizen) == family.partner


def test_a_value_that_no_longer_fits_the_field_is_not_offered(family: SimpleNamespace) -> None:
    definition = Definition(
        definition_parse(
            minimal_definition(
                fields=[
                    {
                        "name": "diet",
                        "type": "choice",
                        "label": {"fr": "Menu"},
                        "prefill": "known.diet",
                        "choices": [{"value": "standard", "label": {"fr": "Standard"}}],
                    },
                    {
                        "name": "days",
                        "type": "multiple_choice",
                        "label": {"fr": "Jours"},
                        "prefill": "known.days",
                        "choices": [{"value": "monday", "label": {"fr": "Lundi"}}],
                    },
                    {
                        "name": "car",
                        "type": "yes_no",
                        "label": {"fr": "Voiture"},
                        "prefill": "known.car",
                    },
                    {
                        "name": "size",
                        "type": "number",
                        "label": {"fr": "Taille"},
                        "prefill": "known.size",
                    },
                ]
            )
        )
    )
    now = timezone.now()
    for key, value in {"diet": "halal", "days": ["monday", "sunday"], "car": "yes"}.items():
        KnownAttribute.objects.create(
            citizen=family.citizen, key=key, value=value, source="x", verified_at=now
        )
    KnownAttribute.objects.create(
        citizen=family.citizen, key="size", value="180", source="x", verified_at=now
    )
    assert prefill_for(definition=definition, citizen=family.citizen) == {}
    KnownAttribute.objects.filter(key="days").update(value=["monday"])
    KnownAttribute.objects.filter(key="car").update(value=True)
    found = prefill_for(definition=definition, citizen=family.citizen)
    assert {name: item.value for name, item in found.items()} == {"days": ["monday"], "car": True}


def test_the_canteen_for_leo_needs_no_typing_of_known_facts(
    family: SimpleNamespace, vault: None
) -> None:
    found = prefill_for(
        definition=_definition("canteen-registration"),
        citizen=family.citizen,
        beneficiary=family.leo,
    )
    assert {name: item.value for name, item in found.items()} == {
        "child_first_name": "Léo",
        "child_last_name": "Martin",
        "child_birth_date": "2017-09-20",
        "school": "elementaire-jean-jaures",
        "family_quotient": 812,
    }


def test_parking_and_creche_prefill(family: SimpleNamespace, vault: None) -> None:
    parking = prefill_for(
        definition=_definition("residential-parking-permit"), citizen=family.citizen
    )
    assert parking["address"].value == family.address.pk
    assert parking["phone"].value == "+33612345678"
    baby = HouseholdMemberFactory(
        household=family.household, first_name="Jade", birth_date=dt.date(2025, 11, 2), school=None
    )
    creche = prefill_for(
        definition=_definition("creche-application"), citizen=family.citizen, beneficiary=baby
    )
    assert {name: item.value for name, item in creche.items()} == {
        "child_first_name": "Jade",
        "child_last_name": "Test",
        "child_birth_date": "2025-11-02",
        "phone": "+33612345678",
        "partner_first_name": "Sami",
        "partner_last_name": "Haddad",
        "caf_number": "1234567",
    }


def test_known_keys_of_the_beneficiary(family: SimpleNamespace) -> None:
    assert known_key("family_quotient", None) == "family_quotient"
    assert known_key("beneficiary.allergies", family.leo) == f"child.{family.leo.pk}.allergies"
    assert known_key("beneficiary.allergies", None) is None


def test_prefill_reads_in_few_queries(
    family: SimpleNamespace, vault: None, django_assert_max_num_queries: Any
) -> None:
    definition = _every_source()
    with django_assert_max_num_queries(3):  # the vault, the partner, the child's school
        prefill_for(definition=definition, citizen=family.citizen, beneficiary=family.leo)
