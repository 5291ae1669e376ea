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


@register.filter
def days_since(moment: datetime | None) -> int | None:
    """Whole days from `moment` to today in the site's time zone (0 for today)."""
    if moment is None:
        return None
    return max(0, (timezone.localdate() - timezone.localtime(moment).date()).days)


# A body longer than this (characters or lines) shows its first lines, the rest behind "Show all".
LONG_TEXT_CHARS = 600
LONG_TEXT_LINES = 6


@register.filter
def is_long_text(text: str) -> bool:
    return len(text) > LONG_TEXT_CHARS or text.count("\n") >= LONG_TEXT_LINES


@register.filter
def text_preview(text: str) -> str:
    """The first lines of a long text, cut at a word, with an ellipsis."""
    lines = text.split("\n")[: LONG_TEXT_LINES - 2]
    preview = "\n".join(lines)
    limit = LONG_TEXT_CHARS // 2
    if len(preview) > limit:
        preview = preview[:limit].rsplit(" ", 1)[0] if " " in preview[:limit] else preview[:limit]
    return preview.rstrip() + "…"
