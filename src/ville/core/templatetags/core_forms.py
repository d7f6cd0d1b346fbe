"""`{% render_field field %}`: a form widget with the ARIA links of our field include."""

from __future__ import annotations

from django import template
from django.forms import BoundField
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag
def render_field(field: BoundField) -> SafeString:
    described = []
    if field.help_text:
        described.append(f"{field.auto_id}-help")
    attrs: dict[str, str | bool] = {}
    if field.errors:
        described.append(f"{field.auto_id}-error")
        attrs["aria-invalid"] = "true"
    if described:
        attrs["aria-describedby"] = " ".join(described)
    return field.as_widget(attrs=attrs)
