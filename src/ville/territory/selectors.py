"""Reads of the territory: address search and look-ups (public data, no acting user).

The search matches the street first (a small table), then ranks that street's numbers.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import Abs
from django.utils.translation import gettext as _

from ville.core.errors import ValidationFailed
from ville.territory.models import Address, Authority, Street
from ville.territory.text import normalize

MAX_QUERY_LENGTH = 200
MAX_LIMIT = 50
# More words than this is not an address; the cap also bounds the SQL we build.
MAX_WORDS = 8
# Streets considered for one query: enough for "rue", few enough for one CASE.
MAX_STREETS = 40

ABBREVIATIONS = {
    "r": "rue",
    "av": "avenue",
    "ave": "avenue",
    "bd": "boulevard",
    "bld": "boulevard",
    "blvd": "boulevard",
    "boul": "boulevard",
    "pl": "place",
    "crs": "cours",
    "imp": "impasse",
    "ch": "chemin",
    "che": "chemin",
    "chem": "chemin",
    "all": "allee",
    "rte": "route",
    "pass": "passage",
    "sq": "square",
    "qu": "quai",
    "st": "saint",
    "ste": "sainte",
    "dr": "docteur",
    "pr": "professeur",
    "gal": "general",
    "mal": "marechal",
}
SUFFIXES = {"bis": "bis", "b": "bis", "ter": "ter", "t": "ter", "quater": "quater", "q": "quater"}
# Words people type or omit freely ("rue de perou"): never required to match.
STOP_WORDS = {"de", "du", "des", "la", "le", "les", "l", "d", "et", "a", "au", "aux", "en"}
_NUMBER = re.compile(r"^(\d{1,4})(bis|ter|quater|[a-z])?$")


@dataclass(frozen=True)
class AddressQuery:
    """A free-text address query split into house number, suffix and street words."""

    number: int | None = None
    suffix: str = ""
    words: tuple[str, ...] = field(default_factory=tuple)
    # Every street word as typed (stop words kept): "rue du pe" ranks "rue du perou" first.
    phrase: str = ""


def address_query_parse(query: str) -> AddressQuery:
    """`"12 bis, av. Roger-Salengro"` → number 12, suffix "bis", words ("av", "roger", …)."""
    words = normalize(query).split()[: MAX_WORDS + 2]
    number: int | None = None
    suffix = ""
    if words and (match := _NUMBER.match(words[0])):
        number = int(match.group(1))
        suffix = SUFFIXES.get(match.group(2) or "", match.group(2) or "")
        words = words[1:]
        if not suffix and words and words[0] in ("bis", "ter", "quater"):
            suffix, words = words[0], words[1:]
    expanded = [ABBREVIATIONS.get(word, word) for word in words]
    meaningful = [word for word in words if word not in STOP_WORDS] or words
    return AddressQuery(
        number=number,
        suffix=suffix,
        words=tuple(meaningful[:MAX_WORDS]),
        phrase=" ".join(expanded[: MAX_WORDS + 2]),
    )


def _word_q(word: str, commune_ids: list[int]) -> Q:
    # A word matches the start of any word of the street name, the postcode or the commune.
    # An abbreviation matches as itself too: "av r" is on its way to "avenue roger".
    condition = Q()
    for form in {word, ABBREVIATIONS.get(word, word)}:
        condition |= Q(search_name__startswith=form) | Q(search_name__contains=f" {form}")
    if word.isdigit() and len(word) == 5:
        condition |= Q(postcode=word)
    if commune_ids:
        condition |= Q(authority_id__in=commune_ids)
    return condition


def _communes_named(words: tuple[str, ...]) -> dict[str, list[int]]:
    """For each query word, the authorities whose name contains it as a whole word."""
    names = Authority.objects.exclude(kind=Authority.Kind.METROPOLIS).values_list("id", "name")
    found: dict[str, list[int]] = {}
    for authority_id, name in names:
        name_words = set(normalize(name).split())
        for word in words:
            if word in name_words:
                found.setdefault(word, []).append(authority_id)
    return found


def _matching_streets(words: tuple[str, ...], phrase: str) -> list[int]:
    """Streets matching every word, best first: the typed phrase at the start of the
    name, then anywhere in it as whole words, then the others by name."""
    communes = _communes_named(words)
    condition = Q()
    for word in words:
        condition &= _word_q(word, communes.get(word, []))
    streets = (
        Street.objects.filter(condition)
        .annotate(
            closeness=Case(
                When(search_name__startswith=phrase, then=Value(0)),
                When(search_name__contains=f" {phrase}", then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            )
        )
        .order_by("closeness", "search_name")
        .values_list("id", flat=True)
    )
    return list(streets[:MAX_STREETS])


def _corrected(words: tuple[str, ...]) -> tuple[str, ...]:
    """Replace misspelt words by the closest street word ("perrou" → "perou")."""
    vocabulary = {
        word
        for name in Street.objects.values_list("search_name", flat=True)
        for word in name.split()
    }
    fixed = []
    for word in words:
        known = word in ABBREVIATIONS or any(v.startswith(word) for v in vocabulary)
        if len(word) >= 4 and not known:
            close = difflib.get_close_matches(word, vocabulary, n=1, cutoff=0.75)
            fixed.append(close[0] if close else word)
        else:
            fixed.append(word)
    return tuple(fixed)


def address_search(*, query: str, limit: int = 10) -> list[Address]:
    """Addresses matching free text such as "12 rue du perou" (accent/case-insensitive).

    Best first: the exact number (and suffix) on the best-matching street, then the
    nearest numbers. Raises ValidationFailed for a query longer than MAX_QUERY_LENGTH.
    """
    if len(query) > MAX_QUERY_LENGTH:
        message = _("The search text is too long (%(max)d characters at most).") % {
            "max": MAX_QUERY_LENGTH
        }
        raise ValidationFailed(message, fields={"q": [message]})
    parsed = address_query_parse(query)
    if not parsed.words:
        return []
    limit = max(1, min(limit, MAX_LIMIT))
    street_ids = _matching_streets(parsed.words, parsed.phrase)
    if not street_ids:
        corrected = _corrected(parsed.words)
        if corrected != parsed.words:
            street_ids = _matching_streets(corrected, " ".join(corrected))
    if not street_ids:
        return []

    street_rank = Case(
        *[When(street_id=street_id, then=Value(rank)) for rank, street_id in enumerate(street_ids)],
        output_field=IntegerField(),
    )
    addresses = (
        Address.objects.filter(street_id__in=street_ids)
        .select_related("street", "district")
        .annotate(street_rank=street_rank)
    )
    if parsed.number is None:
        ordered = addresses.order_by("street_rank", "number", "suffix")
    else:
        exactness = Case(
            When(number=parsed.number, suffix=parsed.suffix, then=Value(0)),
            When(number=parsed.number, then=Value(1)),
            default=Value(2),
            output_field=IntegerField(),
        )
        ordered = addresses.annotate(
            exactness=exactness, distance=Abs(F("number") - parsed.number)
        ).order_by("exactness", "street_rank", "distance", "number", "suffix")
    return list(ordered[:limit])


def address_get(*, address_id: int) -> Address | None:
    return Address.objects.select_related("street", "district").filter(pk=address_id).first()


def addresses_all() -> QuerySet[Address]:
    return Address.objects.select_related("street")
