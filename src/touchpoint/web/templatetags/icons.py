"""{% load icons %}{% icon "calendar" %} or {% icon kind.icon label=_("Due") %}: inline SVG (touchpoint.web.icons)."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from touchpoint.web.icons import icon_svg

register = template.Library()


@register.simple_tag
def icon(name: str, label: str = "") -> SafeString:
    return icon_svg(str(name), label=str(label))
