"""`/api/v1/procedures` and `/api/v1/applications` (being written)."""

from ninja import Router

procedures_router = Router(tags=["procedures"])
applications_router = Router(tags=["applications"])
