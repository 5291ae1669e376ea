"""Charts drawn on the server: a Vega-Lite spec (built with Altair by each app) to SVG by vl-convert.

No JavaScript in the page, and the same path can draw charts into exported reports. Altair (which
brings pandas) and vl-convert are imported inside the functions that draw, never at module top: they
cost every process ~100 MB and half a second, and the tracking API and the worker never draw
(tests/web/test_imports.py keeps it so).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import altair as alt


def svg(chart: alt.TopLevelMixin, *, width: int) -> str:
    """The chart as an SVG document `width` pixels wide (Vega-Lite's "container" width has no page here)."""
    import vl_convert

    spec = chart.to_dict()
    spec["width"] = width
    return vl_convert.vegalite_to_svg(spec)
