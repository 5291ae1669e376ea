"""Health charts: Altair/vl-convert SVG for the bigger ones, a hand-drawn SVG polyline for sparklines."""

from __future__ import annotations

from datetime import date

from django.utils.formats import date_format, number_format
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from touchpoint.web.charts import day_axis_format, svg
from touchpoint.web.display import percent

# Each function imports Altair itself, not this module: see touchpoint.web.charts.

WIDE = 1100  # a chart as wide as its card (class chart-wide), drawn for a desktop card's width

GRADE_COLOURS = {"green": "#157f3b", "yellow": "#b98900", "red": "#b42318", "unknown": "#98a2b3"}


def sparkline_svg(scores: list[float | None], *, width: int = 80, height: int = 20) -> SafeString:
    """A tiny line of daily scores (0 at the bottom, 100 at the top); gaps where a day is unknown."""
    known = [(i, s) for i, s in enumerate(scores) if s is not None]
    if len(known) < 2:
        return SafeString("")
    step = width / max(1, len(scores) - 1)
    points = " ".join(f"{i * step:.1f},{height - 1 - (s / 100) * (height - 2):.1f}" for i, s in known)
    colour = GRADE_COLOURS["green"] if known[-1][1] >= known[0][1] else GRADE_COLOURS["red"]
    return format_html(
        '<svg class="sparkline" width="{}" height="{}" viewBox="0 0 {} {}" role="img" aria-label="{}">'
        '<polyline fill="none" stroke="{}" stroke-width="1.5" points="{}"/></svg>',
        width,
        height,
        width,
        height,
        _("Score over the last 30 days"),
        colour,
        points,
    )


def history_svg(history: list[tuple[date, float | None]], *, green_at: float, red_below: float) -> str:
    import altair as alt

    values = [
        {"date": day.isoformat(), "score": value, "tip": f"{date_format(day, 'DATE_FORMAT')}: {value:.0f}"}
        for day, value in history
        if value is not None
    ]
    if len(values) < 2:
        return ""
    line = (
        alt.Chart(alt.Data(values=values))
        .mark_line(
            color="#2857c5", point=alt.OverlayMarkDef(size=40, opacity=0)
        )  # invisible points carry the hover texts
        .encode(
            x=alt.X("date:T", title=None, axis=alt.Axis(format=day_axis_format(), labelAngle=0)),
            y=alt.Y("score:Q", title=_("Score"), scale=alt.Scale(domain=[0, 100])),
            description="tip:N",
        )
    )
    rules = (
        alt.Chart(alt.Data(values=[{"y": green_at, "c": "green"}, {"y": red_below, "c": "red"}]))
        .mark_rule(strokeDash=[4, 4], opacity=0.6, aria=False)
        .encode(
            y="y:Q",
            color=alt.Color(
                "c:N",
                scale=alt.Scale(
                    domain=["green", "red"], range=[GRADE_COLOURS["green"], GRADE_COLOURS["red"]]
                ),
                legend=None,
            ),
        )
    )
    return svg(alt.layer(line, rules).properties(height=160), width=WIDE)


def distribution_svg(counts: dict[str, int], labels: dict[str, str]) -> str:
    import altair as alt

    order = ["green", "yellow", "red", "unknown"]
    values = [
        {
            "grade": labels[g],
            "key": g,
            "accounts": counts.get(g, 0),
            "tip": f"{labels[g]}: {counts.get(g, 0)}",
        }
        for g in order
    ]
    chart = (
        alt.Chart(alt.Data(values=values))
        .mark_bar()
        .encode(
            x=alt.X("accounts:Q", title=_("Accounts"), axis=alt.Axis(tickMinStep=1, format="d")),
            y=alt.Y("grade:N", title=None, sort=[labels[g] for g in order]),
            color=alt.Color(
                "key:N", scale=alt.Scale(domain=order, range=[GRADE_COLOURS[g] for g in order]), legend=None
            ),
            description="tip:N",
        )
        .properties(height=110)
    )
    return svg(chart, width=420)


def lift_svg(series: dict[str, list[dict]]) -> str:
    """Lift by decile (1 = the lowest scores) for each named scorecard."""
    import altair as alt

    values = [
        {
            "decile": row["decile"],
            "lift": row["lift"],
            "scorecard": name,
            "tip": _("%(scorecard)s, decile %(decile)s: lift %(lift)s")
            % {"scorecard": name, "decile": row["decile"], "lift": number_format(row["lift"], 2)},
        }
        for name, rows in series.items()
        for row in rows
    ]
    if not values:
        return ""
    chart = (
        alt.Chart(alt.Data(values=values))
        .mark_bar()
        .encode(
            x=alt.X("decile:O", title=_("Decile (lowest scores first)"), axis=alt.Axis(labelAngle=0)),
            xOffset="scorecard:N",
            y=alt.Y("lift:Q", title=_("Lift")),
            color=alt.Color("scorecard:N", title=None, legend=alt.Legend(orient="top")),
            description="tip:N",
        )
        .properties(height=220)
    )
    return svg(chart, width=WIDE)


def calibration_svg(series: dict[str, list[dict]]) -> str:
    """Observed churn/contraction rate against the risk the score implies (100 − score), per score band."""
    import altair as alt

    values = [
        {
            "predicted": row["predicted"],
            "observed": row["observed"],
            "scorecard": name,
            "tip": _("%(scorecard)s: implied risk %(predicted)s, observed %(observed)s (%(count)s scores)")
            % {
                "scorecard": name,
                "predicted": percent(row["predicted"]),
                "observed": percent(row["observed"]),
                "count": row["count"],
            },
        }
        for name, rows in series.items()
        for row in rows
    ]
    if not values:
        return ""
    diagonal = (
        alt.Chart(alt.Data(values=[{"x": 0, "y": 0}, {"x": 1, "y": 1}]))
        .mark_line(color="#98a2b3", strokeDash=[4, 4], aria=False)
        .encode(x="x:Q", y="y:Q")
    )
    points = (
        alt.Chart(alt.Data(values=values))
        .mark_line(point=True)
        .encode(
            x=alt.X(
                "predicted:Q",
                title=_("Implied risk (1 − score/100)"),
                scale=alt.Scale(domain=[0, 1]),
                axis=alt.Axis(format=".0%"),
            ),
            y=alt.Y(
                "observed:Q",
                title=_("Observed churn or contraction rate"),
                scale=alt.Scale(domain=[0, 1]),
                axis=alt.Axis(format=".0%"),
            ),
            color=alt.Color("scorecard:N", title=None, legend=alt.Legend(orient="top")),
            description="tip:N",
        )
    )
    return svg(alt.layer(diagonal, points).properties(height=260), width=420)
