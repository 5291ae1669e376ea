"""{% load display %}: `period|period_label`, `ratio|percent`, `figure|plain_number` (see
touchpoint.web.display)."""

from __future__ import annotations

from django import template

from touchpoint.web import display

register = template.Library()


@register.filter
def period_label(span: display.Span) -> str:
    return display.period_label(span)


@register.filter
def percent(value, digits: int = 1) -> str:
    return display.percent(value, int(digits))


@register.filter
def plain_number(value) -> str:
    return display.plain_number(value)
