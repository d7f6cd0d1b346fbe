"""`/api/v1/territory/…`: public address search, used by the address autocomplete.

Public data only (the BAN-style table), so no authentication.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router, Schema

from ville.territory.models import Address
from ville.territory.selectors import MAX_LIMIT, address_search

router = Router(tags=["territory"])


class AddressOut(Schema):
    id: int
    label: str
    postcode: str
    district: str | None
    lon: float
    lat: float

    @staticmethod
    def resolve_district(obj: Address) -> str | None:
        return obj.district.name if obj.district else None


class AddressSearchOut(Schema):
    results: list[AddressOut]


class AddressSearchIn(Schema):
    q: str = ""
    limit: int = 10


@router.get("/addresses", response=AddressSearchOut, url_name="territory_addresses")
def addresses_search(request: HttpRequest, params: Query[AddressSearchIn]) -> dict:
    """Addresses matching `q` ("12 rue du perou"), best first; 422 for a too long `q`."""
    limit = max(1, min(params.limit, MAX_LIMIT))
    return {"results": address_search(query=params.q, limit=limit)}
