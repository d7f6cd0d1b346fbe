"""The search-then-choose address picker, as the profile form embeds it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import translation

from ville.territory.forms import AddressPicker
from ville.territory.models import Address

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Messages are asserted in English (the msgids)."""
    with translation.override("en"):
        yield


@pytest.fixture
def perou_12(territory: dict[str, int]) -> Address:
    return Address.objects.get(street__name="Rue du Pérou", number=12, suffix="")


def render(picker: AddressPicker) -> str:
    request = RequestFactory().get("/")
    return render_to_string(
        "territory/includes/address_picker.html", {"picker": picker}, request=request
    )


def test_unbound_shows_the_current_address_checked(perou_12: Address) -> None:
    picker = AddressPicker(initial=perou_12)
    assert not picker.is_bound and not picker.is_search
    assert picker.selected == perou_12
    assert picker.options == [(perou_12, True)]
    html = render(picker)
    assert f'name="address" id="id_address_{perou_12.pk}" value="{perou_12.pk}" checked' in html
    assert 'name="address_query"' in html and 'name="address_search"' in html


def test_search_press_lists_results_and_keeps_the_current_choice(perou_12: Address) -> None:
    other = Address.objects.get(street__name="Cours Émile Zola", number=148)
    picker = AddressPicker(
        {"address_query": "12 rue du perou", "address_search": "", "address": str(other.pk)},
        initial=other,
    )
    assert picker.is_search
    assert not picker.is_valid()  # the outer form re-renders instead of saving
    assert picker.error is None
    assert picker.results[0] == perou_12
    assert picker.selected == other
    assert picker.options[0] == (other, True)
    assert (perou_12, False) in picker.options
    html = render(picker)
    assert 'role="status"' in html
    assert f"{len(picker.results)} addresses found" in html
    assert 'value="12 rue du perou"' in html


def test_choose_a_result(perou_12: Address) -> None:
    picker = AddressPicker({"address_query": "12 rue du perou", "address": str(perou_12.pk)})
    assert not picker.is_search
    assert picker.is_valid()
    assert picker.selected == perou_12


def test_custom_prefix(perou_12: Address) -> None:
    picker = AddressPicker({"home": str(perou_12.pk)}, prefix="home")
    assert picker.is_valid() and picker.selected == perou_12
    html = render(AddressPicker({"home_query": "perou", "home_search": "1"}, prefix="home"))
    assert 'id="id_home_query"' in html and 'name="home"' in html


@pytest.mark.parametrize("value", ["999999999", "abc", "1; DROP TABLE", "9" * 40, "-3"])
def test_unknown_id(territory: dict[str, int], value: str) -> None:
    picker = AddressPicker({"address": value, "address_query": ""})
    assert not picker.is_valid()
    assert picker.selected is None
    assert picker.error and "not in the address table" in picker.error


def test_required_without_choice(territory: dict[str, int]) -> None:
    picker = AddressPicker({"address_query": ""}, required=True)
    assert not picker.is_valid()
    assert picker.error
    html = render(picker)
    assert 'aria-invalid="true"' in html
    assert f'aria-describedby="{picker.help_id} {picker.error_id}"' in html
    assert f'id="{picker.error_id}"' in html


def test_optional_without_choice_means_no_address(territory: dict[str, int]) -> None:
    picker = AddressPicker({"address_query": "", "address": ""})
    assert picker.is_valid()
    assert picker.selected is None


def test_typed_but_not_searched_asks_for_a_choice(perou_12: Address) -> None:
    picker = AddressPicker({"address_query": "12 rue du perou"})
    assert not picker.is_valid()
    assert picker.results[0] == perou_12
    assert picker.error


def test_nothing_found_message_names_the_query(territory: dict[str, int]) -> None:
    picker = AddressPicker({"address_query": "zzzz", "address_search": ""})
    assert picker.is_search and not picker.is_valid()
    assert picker.results == []
    assert picker.error == (
        "No address matches “zzzz” in the territory. Check the spelling or try the street "
        "name only."
    )


def test_too_long_query(territory: dict[str, int]) -> None:
    picker = AddressPicker({"address_query": "a" * 5000, "address_search": ""})
    assert picker.error and "too long" in picker.error
    assert len(picker.query) <= 200
    assert "a" * 201 not in render(picker)


def test_escapes_what_was_typed(territory: dict[str, int]) -> None:
    picker = AddressPicker({"address_query": "<script>alert(1)</script>", "address_search": ""})
    html = render(picker)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_enter_in_another_field_is_not_a_search(perou_12: Address) -> None:
    # Implicit submission sends the first submit button: the picker's Search button.
    picker = AddressPicker({"address_query": "", "address_search": "", "address": str(perou_12.pk)})
    assert not picker.is_search
    assert picker.is_valid() and picker.selected == perou_12


def test_label_left_by_the_autocomplete_is_not_a_search(perou_12: Address) -> None:
    picker = AddressPicker(
        {"address_query": perou_12.label, "address_search": "", "address": str(perou_12.pk)}
    )
    assert not picker.is_search
    assert picker.is_valid() and picker.selected == perou_12
