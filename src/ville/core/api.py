"""The `/api/v1/` root: one NinjaAPI, one error shape, each domain adds its router."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser
from ninja.types import DictStrAny

from ville.core.errors import DomainError, ValidationFailed, error_body


def _contains_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_contains_nul(k) or _contains_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_contains_nul(v) for v in value)
    return False


class JsonParser(Parser):
    """JSON bodies, refusing NUL characters: PostgreSQL cannot store them in text, and no
    honest client sends them. Refusing here keeps every endpoint from a 500."""

    def parse_body(self, request: HttpRequest) -> DictStrAny:
        data = super().parse_body(request)
        if _contains_nul(data):
            raise ValidationFailed(
                _("Text cannot contain NUL (0x00) characters."), code="nul_character"
            )
        return data


api = NinjaAPI(
    title="Ville Intelligente API",
    version="1",
    urls_namespace="api",
    docs_url="/docs",
    parser=JsonParser(),
)


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return api.create_response(request, exc.as_dict(), status=exc.status)


@api.exception_handler(NinjaValidationError)
def _validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    fields: dict[str, list[str]] = {}
    for err in exc.errors:
        loc = [str(part) for part in err.get("loc", []) if part not in ("body", "payload")]
        fields.setdefault(".".join(loc) or "__all__", []).append(str(err.get("msg", "")))
    body = error_body("validation_failed", _("Some fields need your attention."), fields)
    return api.create_response(request, body, status=422)


@api.exception_handler(AuthenticationError)
def _auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    body = error_body("not_authenticated", _("You need to log in."))
    return api.create_response(request, body, status=401)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, error_body("not_found", _("Not found.")), status=404)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    body = error_body(f"http_{exc.status_code}", str(exc))
    return api.create_response(request, body, status=exc.status_code)


def _register_routers() -> None:
    # Imported here so that each domain owns its router and this module stays the root.
    from ville.accounts.api import auth_router, me_router
    from ville.dashboard.api import router as dashboard_router
    from ville.procedures.api import applications_router, procedures_router
    from ville.territory.api import router as territory_router

    api.add_router("/auth", auth_router)
    api.add_router("/me", me_router)
    api.add_router("/me/dashboard", dashboard_router)
    api.add_router("/territory", territory_router)
    api.add_router("/procedures", procedures_router)
    api.add_router("/applications", applications_router)


_register_routers()
