"""The accounts part of the JSON API: `/api/v1/auth/…` and `/api/v1/me`."""

from ville.accounts.api.auth import router as auth_router
from ville.accounts.api.me import router as me_router

__all__ = ["auth_router", "me_router"]
