"""Charts drawn on the server: a Vega-Lite spec (built with Altair by each app) to SVG by vl-convert.

No JavaScript in the page, and the same path can draw charts into exported reports. Altair (which
brings pandas) and vl-convert are imported inside the functions that draw, never at module top: they
cost every process ~100 MB and half a second, and the tracking API and the worker never draw
(tests/web/test_imports.py keeps it so). Under `touchpoint serve` the drawing itself happens in one
renderer process (touchpoint.web.chart_renderer), so vl-convert's engine is loaded once, not in
every web process.

Every chart speaks the reader's language:

- Vega's own number and time formatting get a d3 locale built from Django's active language
  (`number_locale`, `time_locale`), so an axis of days says "3/7" in Japanese and "7 มี.ค." in Thai,
  with the same MONTH_DAY_FORMAT the pages use (touchpoint/formats).
- Categories (months, series names) are written by Django before they reach the chart
  (`touchpoint.web.display.period_label`, gettext), so the axis and the table under it agree.
- A mark's hover text is the `tip` the chart computed in Python (`tip` field → Vega's `description`);
  `svg` turns each mark's description into an SVG `<title>`, which browsers show on hover. Without
  it the static SVG would have no tooltip at all (Vega's tooltips need its JavaScript runtime).
"""

from __future__ import annotations

import logging
import re
from datetime import date
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils.formats import date_format, get_format
from django.utils.translation import gettext

from touchpoint.web import chart_renderer

if TYPE_CHECKING:
    import altair as alt

logger = logging.getLogger(__name__)

# Text is measured by vl-convert when it lays the chart out and drawn later by the browser: the two must
# agree or labels get cut. DejaVu Sans (what Debian's browsers draw "sans-serif" with) is the widest of
# the common sans fonts, so a browser that draws with a narrower one only leaves a little space.
FONT = '"DejaVu Sans", "Noto Sans CJK JP", "Noto Sans Thai", Loma, sans-serif'

CONFIG: dict[str, Any] = {
    "font": FONT,
    # Axes and legends describe themselves to screen readers in English ("X-axis titled …"); the
    # figure around the chart carries a translated label instead, and marks keep their `tip`.
    "axis": {
        "aria": False,
        "labelFontSize": 12,
        "titleFontSize": 12,
        "titleFontWeight": "normal",
        "labelLimit": 0,
    },
    "legend": {"aria": False, "labelFontSize": 12, "labelLimit": 0, "symbolSize": 80},
    # A line or an area is one shape for many data: its points carry the hover texts instead.
    "line": {"aria": False},
    "area": {"aria": False},
    "rule": {"aria": False},
    "view": {"stroke": None},
    "padding": 8,
}

# Django date format characters → d3-time-format directives ("-" = no zero padding).
_D3 = {
    "d": "%d",
    "j": "%-d",
    "m": "%m",
    "n": "%-m",
    "M": "%b",
    "b": "%b",
    "N": "%b",
    "F": "%B",
    "E": "%B",
    "Y": "%Y",
    "y": "%y",
    "H": "%H",
    "G": "%-H",
    "i": "%M",
    "s": "%S",
}


def d3_time_pattern(django_format: str) -> str:
    """A Django date format ("n/j", "j M Y") as a d3-time-format pattern ("%-m/%-d", "%-d %b %Y")."""
    out = []
    escaped = False
    for char in django_format:
        if escaped:
            out.append("%%" if char == "%" else char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in _D3:
            out.append(_D3[char])
        else:
            out.append("%%" if char == "%" else char)
    return "".join(out)


def day_axis_format() -> str:
    """The d3 pattern for a day on a chart's axis, in the active language (its MONTH_DAY_FORMAT)."""
    return d3_time_pattern(str(get_format("MONTH_DAY_FORMAT")))


def time_locale() -> dict[str, Any]:
    """A d3-time-format locale from Django's month and weekday names in the active language."""
    # 2023-01-01 was a Sunday: d3 lists days from Sunday.
    sunday = date(2023, 1, 1)
    days = [sunday.replace(day=1 + i) for i in range(7)]
    months = [date(2023, m, 1) for m in range(1, 13)]
    return {
        "dateTime": "%x %X",
        "date": d3_time_pattern(str(get_format("DATE_FORMAT"))),
        "time": "%H:%M:%S",
        "periods": ["AM", "PM"],
        "days": [date_format(d, "l") for d in days],
        "shortDays": [date_format(d, "D") for d in days],
        "months": [date_format(m, "F") for m in months],
        "shortMonths": [date_format(m, "M") for m in months],
    }


def number_locale() -> dict[str, Any]:
    """A d3-format locale with the active language's decimal and thousands separators."""
    return {
        "decimal": str(get_format("DECIMAL_SEPARATOR")),
        "thousands": str(get_format("THOUSAND_SEPARATOR")),
        "grouping": [3],
        "currency": ["", ""],
        # The percent sign as the language writes it after a number ("97,7 %" in Russian), as in the tables.
        "percent": gettext("%(number)s%%") % {"number": ""},
    }


_MARK_WITH_LABEL = re.compile(r'<path([^>]*?) aria-label="([^"]*)"( role="graphics-symbol"[^>]*?)/>')


def _titles(svg_text: str) -> str:
    """Give every described mark a <title> (the hover text browsers show for SVG)."""
    return _MARK_WITH_LABEL.sub(r'<path\1 aria-label="\2"\3><title>\2</title></path>', svg_text)


def svg(chart: alt.TopLevelMixin, *, width: int) -> str:
    """The chart as an SVG document `width` pixels wide, axes and legend included.

    Drawn by the renderer `touchpoint serve` starts (settings.TOUCHPOINT_CHART_SOCKET), or in this
    process when there is none or it does not answer.
    """
    spec = chart.to_dict()
    spec["width"] = width
    spec["autosize"] = {"type": "fit-x", "contains": "padding"}
    spec["config"] = {**CONFIG, **spec.get("config", {})}
    locales = {"format_locale": number_locale(), "time_format_locale": time_locale()}
    socket_path = settings.TOUCHPOINT_CHART_SOCKET
    if socket_path:
        try:
            return _titles(chart_renderer.draw_remote(socket_path, spec, **locales))
        except (OSError, ValueError, TypeError) as error:  # unreachable, or an answer cut short
            logger.warning("chart renderer at %s did not answer (%s); drawing here", socket_path, error)
    return _titles(chart_renderer.draw(spec, **locales))
