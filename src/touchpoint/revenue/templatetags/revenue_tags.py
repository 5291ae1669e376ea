"""{% load revenue_tags %}: the reporting currency, day counts, and `name|reason_label` (a built-in
churn reason in the reader's language)."""

from __future__ import annotations

from datetime import date

from django import template
from django.conf import settings
from django.utils import timezone

from touchpoint.revenue.churn_reasons import reason_label as _reason_label

register = template.Library()


@register.simple_tag
def reporting_currency() -> str:
    """The currency revenue reports in (settings.TOUCHPOINT_CURRENCY)."""
    return settings.TOUCHPOINT_CURRENCY


@register.filter
def days_from_today(day: date | None) -> int | None:
    """Days from today to `day` (negative when it has passed)."""
    if day is None:
        return None
    return (day - timezone.localdate()).days


@register.filter
def days_ago(day: date | None) -> int | None:
    """Days since `day` (negative when it is still ahead)."""
    if day is None:
        return None
    return (timezone.localdate() - day).days


@register.filter
def reason_label(name: str | None) -> str:
    return _reason_label(name)
