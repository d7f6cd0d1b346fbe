"""`/api/v1/territory/…` (being written)."""

from ninja import Router

router = Router(tags=["territory"])
