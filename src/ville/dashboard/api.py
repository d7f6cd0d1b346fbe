"""`/api/v1/me/dashboard` (being written)."""

from ninja import Router

router = Router(tags=["dashboard"])
