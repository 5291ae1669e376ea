"""How a month, a reporting period and a share are written in the reader's language.

Dates go through the named formats of touchpoint/formats (one per language); pages, charts and
their labels call these so a chart's axis and the table under it say the same month the same way.
CSV exports and the API keep ISO forms (2026-03, 2026-Q1): machines read those.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Protocol

from django.utils.formats import date_format, number_format
from django.utils.translation import gettext


class Span(Protocol):
    @property
    def start(self) -> date: ...

    @property
    def end(self) -> date: ...


def month_label(day: date) -> str:
    """The month holding `day`, as the reader's language writes a month (YEAR_MONTH_FORMAT)."""
    return date_format(day, "YEAR_MONTH_FORMAT")


def period_label(span: Span) -> str:
    """A calendar month or quarter (revenue.metrics.Period) in the reader's language."""
    months = (span.end.year - span.start.year) * 12 + span.end.month - span.start.month + 1
    if months == 3 and span.start.month % 3 == 1:
        return gettext("Q%(quarter)s %(year)s") % {
            "quarter": (span.start.month - 1) // 3 + 1,
            "year": span.start.year,
        }
    return month_label(span.start)


def plain_number(value: float | Decimal | None) -> str:
    """A measured figure with the digits it has and no more (27.3, not 27.3000), in the reader's
    number format; "—" when unknown."""
    if value is None:
        return "—"
    exact = Decimal(str(value)).normalize()
    exponent = exact.as_tuple().exponent
    digits = max(0, -exponent) if isinstance(exponent, int) else 0  # NaN/Infinity have no digits
    return number_format(exact, digits)


def percent(value: float | Decimal | None, digits: int = 1) -> str:
    """A ratio (0.977) as a percentage in the reader's number format ("97.7%"); "—" when unknown."""
    if value is None:
        return "—"
    return gettext("%(number)s%%") % {"number": number_format(float(value) * 100, digits)}
