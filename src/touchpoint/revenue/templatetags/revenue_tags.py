"""{% load revenue_tags %}: `name|reason_label` (a built-in churn reason in the reader's language)."""

from __future__ import annotations

from django import template

from touchpoint.revenue.churn_reasons import reason_label as _reason_label

register = template.Library()


@register.filter
def reason_label(name: str | None) -> str:
    return _reason_label(name)
