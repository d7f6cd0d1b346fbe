"""Template context every page needs: the language list for the switcher."""

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import get_language_info


def platform(request: HttpRequest) -> dict:
    return {
        "ville_languages": [
            {"code": code, "name_local": get_language_info(code)["name_local"]}
            for code, _name in settings.LANGUAGES
        ],
        "ville_demo": settings.DEMO,
    }
