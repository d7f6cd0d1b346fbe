"""Reads of the territory: address search and look-ups (public data)."""

from __future__ import annotations

from django.db.models import QuerySet

from ville.territory.models import Address


def address_search(*, query: str, limit: int = 10) -> list[Address]:
    """Addresses matching free text such as "12 rue du perou" (accent/case-insensitive)."""
    raise NotImplementedError  # being written


def address_get(*, address_id: int) -> Address | None:
    return Address.objects.select_related("street", "district").filter(pk=address_id).first()


def addresses_all() -> QuerySet[Address]:
    return Address.objects.select_related("street")
