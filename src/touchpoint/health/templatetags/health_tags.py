from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from touchpoint.health import charts, measures, selectors

register = template.Library()


@register.simple_tag
def health_sparklines(accounts) -> dict[int, list[float | None]]:
    """Last 30 days of scores for the accounts on a page, in one query."""
    return selectors.sparklines([account.pk for account in accounts])


@register.filter
def sparkline(series_by_account: dict, account_id: int) -> SafeString:
    return charts.sparkline_svg(series_by_account.get(account_id, []))


@register.filter
def signed(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    return f"{value:+.{int(digits)}f}"


@register.filter
def measure_label(key: str) -> str:
    """A measure's name in the reader's language (its key when no app registers it any more)."""
    measure = measures.get_measure(key)
    return str(measure.label) if measure else key
