from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.safestring import mark_safe

from touchpoint.accounts.timeline import entry_link, entry_title, kind_info

register = template.Library()


@register.simple_tag
def sort_link(current: str, key: str, querystring: str) -> str:
    """The `?sort=` value a column header links to: ascending first, then descending."""
    target = f"-{key}" if current == key else key
    prefix = f"{querystring}&" if querystring else ""
    return f"?{prefix}sort={target}"


@register.simple_tag
def sort_indicator(current: str, key: str) -> str:
    if current == key:
        return mark_safe('<span aria-hidden="true">▲</span>')
    if current == f"-{key}":
        return mark_safe('<span aria-hidden="true">▼</span>')
    return ""


@register.filter
def timeline_title(entry) -> str:
    return entry_title(entry)


@register.filter
def timeline_kind(entry):
    return kind_info(entry.kind)


@register.filter
def timeline_link(entry) -> str | None:
    return entry_link(entry)


def days_since(moment: datetime | None) -> int | None:
    """Whole days from `moment` to today in the site's time zone (0 for today)."""
    if moment is None:
        return None
    return max(0, (timezone.localdate() - timezone.localtime(moment).date()).days)
