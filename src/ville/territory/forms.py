"""The address picker: search-then-choose without JavaScript, embeddable in any form.

Render it with `{% include "territory/includes/address_picker.html" with picker=picker %}`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

from ville.core.errors import ValidationFailed
from ville.territory.models import Address
from ville.territory.selectors import MAX_QUERY_LENGTH, address_get, address_search
from ville.territory.text import normalize

PICKER_RESULTS = 10
# Ids are bigints: anything longer is not one of ours (and would overflow the column).
_ID = re.compile(r"[0-9]{1,18}")


class AddressPicker:
    """State of one address picker for one request.

    Unbound (`data=None`): shows the current address (`initial`) as the checked option.
    Bound, search button pressed with something to search (`is_search`): runs the
    search; the outer form must re-render, not save. Bound otherwise: `is_valid()` checks
    the chosen address id and `selected` is the Address to save (None when the picker is
    optional and left empty).
    """

    def __init__(
        self,
        data: Mapping[str, Any] | None = None,
        *,
        prefix: str = "address",
        initial: Address | None = None,
        required: bool = False,
    ) -> None:
        self.prefix = prefix
        self.required = required
        self.initial = initial
        self.is_bound = data is not None
        self.query: str = ""
        self.results: list[Address] = []
        self.selected: Address | None = initial
        self.error: str | None = None
        self.is_search: bool = False
        self.searched = False
        if data is not None:
            self._bind(data)

    # --- names and ids used by the template and by outer error summaries ----------------
    @property
    def query_name(self) -> str:
        return f"{self.prefix}_query"

    @property
    def search_name(self) -> str:
        return f"{self.prefix}_search"

    @property
    def query_id(self) -> str:
        return f"id_{self.prefix}_query"

    @property
    def error_id(self) -> str:
        return f"id_{self.prefix}_error"

    @property
    def help_id(self) -> str:
        return f"id_{self.prefix}_help"

    @property
    def status_id(self) -> str:
        return f"id_{self.prefix}_status"

    @property
    def options_id(self) -> str:
        return f"id_{self.prefix}_options"

    @property
    def max_length(self) -> int:
        return MAX_QUERY_LENGTH

    @property
    def options(self) -> list[tuple[Address, bool]]:
        """Radio options: the current choice first (kept checked), then the results."""
        shown: list[tuple[Address, bool]] = []
        if self.selected is not None:
            shown.append((self.selected, True))
        for address in self.results:
            if self.selected is None or address.pk != self.selected.pk:
                shown.append((address, False))
        return shown

    def is_valid(self) -> bool:
        return self.is_bound and not self.is_search and self.error is None

    # --- binding ---------------------------------------------------------------------
    def _bind(self, data: Mapping[str, Any]) -> None:
        raw_query = str(data.get(self.query_name, "") or "").strip()
        # Never echo a huge paste back into the page; the error says it was too long.
        self.query = raw_query[:MAX_QUERY_LENGTH]
        chosen = str(data.get(self.prefix, "") or "").strip()
        self.selected = self._chosen(chosen)
        # Enter in any text field of the outer form "presses" its first submit button,
        # which is this Search button: with nothing to search, or with the label of the
        # address already chosen (what the autocomplete leaves in the field), the person
        # meant to send the outer form, so it is not a search.
        self.is_search = (
            self.search_name in data
            and bool(raw_query)
            and not (self.selected and normalize(raw_query) == normalize(self.selected.label))
        )
        if self.is_search:
            # A fresh search replaces a stale or tampered choice: no error for it here.
            self.error = None
            self._search(raw_query)
        elif self.error:
            return
        elif self.selected is None and raw_query:
            # Typed but never pressed "Search": show the matches and ask for a choice.
            self._search(raw_query)
            if not self.error:
                self.error = _("Choose your address in the list of results.")
        elif self.selected is None and self.required:
            self.error = _("Search for your address, then choose it in the list.")

    def _chosen(self, chosen: str) -> Address | None:
        if not chosen:
            return None
        address = address_get(address_id=int(chosen)) if _ID.fullmatch(chosen) else None
        if address is None:
            self.error = _(
                "The chosen address is not in the address table. Search again and choose "
                "one of the results."
            )
        return address

    def _search(self, raw_query: str) -> None:
        try:
            self.results = address_search(query=raw_query, limit=PICKER_RESULTS)
        except ValidationFailed as exc:
            self.error = str(exc.message)
            return
        self.searched = True
        if not self.results:
            self.error = _(
                "No address matches “%(query)s” in the territory. Check the spelling or "
                "try the street name only."
            ) % {"query": self.query}
