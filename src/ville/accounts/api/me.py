"""`/api/v1/me` and the household endpoints (being written)."""

from ninja import Router

router = Router(tags=["me"])
