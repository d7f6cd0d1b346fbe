"""`/api/v1/auth/…` and `/api/v1/me` (being written)."""

from ninja import Router

auth_router = Router(tags=["auth"])
me_router = Router(tags=["me"])
