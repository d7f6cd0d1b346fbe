"""Placeholder: profile and household pages (being written)."""

from django.http import HttpRequest, HttpResponse


def _todo(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return HttpResponse(status=501)


profile_view = household_view = member_add_view = member_edit_view = member_remove_view = _todo
