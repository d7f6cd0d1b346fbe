"""`/api/v1/auth/csrf`, `/api/v1/auth/login`, `/api/v1/auth/logout` (being written)."""

from ninja import Router

router = Router(tags=["auth"])
