"""Template context every page needs: the language list for the switcher, and whether
the visitor works in a service (for the back-office link)."""

from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject
from django.utils.translation import get_language_info


def _is_agent(request: HttpRequest) -> bool:
    user = request.user
    # Evaluated only when a template asks, i.e. once per page for logged-in visitors.
    return bool(user.is_authenticated and user.is_agent)  # type: ignore[union-attr]


def platform(request: HttpRequest) -> dict:
    return {
        "ville_languages": [
            {"code": code, "name_local": get_language_info(code)["name_local"]}
            for code, _name in settings.LANGUAGES
        ],
        "ville_demo": settings.DEMO,
        "ville_is_agent": SimpleLazyObject(lambda: _is_agent(request)),
    }
