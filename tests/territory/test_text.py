"""Normalisation shared by the searches."""

from __future__ import annotations

import pytest

from ville.territory.text import normalize, tokens


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Rue du Pérou", "rue du perou"),
        ("  COURS   ÉMILE-ZOLA, n°12 ", "cours emile zola n 12"),
        ("Avenue Paul Krüger", "avenue paul kruger"),
        ("Rue Château-Gaillard", "rue chateau gaillard"),
        ("L'Œuvre", "l oeuvre"),
        ("Boulevard du 11 Novembre 1918", "boulevard du 11 novembre 1918"),
        ("شارع  ١٢", "شارع ١٢"),
        ("", ""),
        ("!!!", ""),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_tokens() -> None:
    assert tokens("12 bis, Rue du Pérou") == ["12", "bis", "rue", "du", "perou"]
