"""Address search: accents, case, abbreviations, numbers and suffixes, ranking."""

from __future__ import annotations

import pytest

from ville.core.errors import ValidationFailed
from ville.territory.selectors import (
    MAX_QUERY_LENGTH,
    address_get,
    address_query_parse,
    address_search,
)

pytestmark = pytest.mark.django_db


def labels(query: str, limit: int = 10) -> list[str]:
    return [address.label for address in address_search(query=query, limit=limit)]


def test_exact_number_first(territory: dict[str, int]) -> None:
    found = labels("12 rue du perou")
    assert found[0] == "12 Rue du Pérou, 69100 Villeurbanne"
    # Then the same number with a suffix, then the neighbours on the same street.
    assert found[1] == "12 bis Rue du Pérou, 69100 Villeurbanne"
    assert all("Rue du Pérou" in label for label in found)


def test_suffix_first_when_asked(territory: dict[str, int]) -> None:
    for query in ("12 bis rue du Pérou", "12bis, r. du perou", "12B RUE DU PEROU"):
        assert labels(query)[0] == "12 bis Rue du Pérou, 69100 Villeurbanne", query


def test_upper_case_without_accents(territory: dict[str, int]) -> None:
    found = address_search(query="COURS EMILE ZOLA")
    assert len(found) == 10
    assert {address.street.name for address in found} == {"Cours Émile Zola"}
    # Without a number: in number order along the street.
    numbers = [(a.number, a.suffix) for a in found]
    assert numbers == sorted(numbers)


@pytest.mark.parametrize(
    ("query", "street"),
    [
        ("av roger salengro", "Avenue Roger Salengro"),
        ("bd du 11 novembre", "Boulevard du 11 Novembre 1918"),
        ("crs tolstoi", "Cours Tolstoï"),
        ("pl lazare goujon", "Place Lazare Goujon"),
        ("r edouard vaillant", "Rue Édouard Vaillant"),
        ("Avenue Paul Kruger", "Avenue Paul Krüger"),
        ("rue de perou", "Rue du Pérou"),
        ("chateau gaillard", "Rue Château-Gaillard"),
        ("perrou", "Rue du Pérou"),  # one typo
        ("roger salengro 69100 villeurbanne", "Avenue Roger Salengro"),
        # While typing: a partial word, and an abbreviation that is also a prefix.
        ("rue du pe", "Rue du Pérou"),
        ("av r", "Avenue Roger Salengro"),
    ],
)
def test_streets_found(territory: dict[str, int], query: str, street: str) -> None:
    found = address_search(query=query)
    assert found, query
    assert found[0].street.name == street


def test_number_on_the_street_wins_over_other_streets(territory: dict[str, int]) -> None:
    found = address_search(query="148 cours emile zola villeurbanne")
    assert (found[0].number, found[0].street.name) == (148, "Cours Émile Zola")


def test_missing_number_gives_the_nearest(territory: dict[str, int]) -> None:
    found = address_search(query="999 rue du perou")
    assert found
    highest = max(a.number for a in found)
    assert found[0].number == highest


@pytest.mark.parametrize("query", ["zzzz", "", "   ", "12", "rue qui nexiste pas du tout"])
def test_nothing_found(territory: dict[str, int], query: str) -> None:
    assert address_search(query=query) == []


def test_too_long_query_is_a_validation_error(territory: dict[str, int]) -> None:
    with pytest.raises(ValidationFailed) as info:
        address_search(query="rue " * 1300)
    assert "q" in info.value.fields
    # At the limit it is still a search.
    assert address_search(query="x" * MAX_QUERY_LENGTH) == []


def test_limit_is_clamped(territory: dict[str, int]) -> None:
    assert len(address_search(query="rue", limit=3)) == 3
    assert len(address_search(query="rue", limit=0)) == 1
    assert len(address_search(query="rue", limit=10_000)) == 50


def test_query_count(territory: dict[str, int], django_assert_max_num_queries) -> None:
    with django_assert_max_num_queries(3):
        assert address_search(query="12 rue du perou")


def test_parse() -> None:
    parsed = address_query_parse("12 ter, Bd. du 11 Novembre 1918")
    assert (parsed.number, parsed.suffix) == (12, "ter")
    assert parsed.words == ("bd", "11", "novembre", "1918")
    assert parsed.phrase == "boulevard du 11 novembre 1918"
    assert address_query_parse("rue du perou").number is None


def test_address_get(territory: dict[str, int]) -> None:
    address = address_search(query="12 rue du perou")[0]
    assert address_get(address_id=address.pk) == address
    assert address_get(address_id=10**12) is None
