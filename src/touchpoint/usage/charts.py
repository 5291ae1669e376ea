"""Usage charts, drawn on the server as SVG (Vega-Lite through Altair and vl-convert): no JavaScript."""

from __future__ import annotations

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from touchpoint.web.charts import day_axis_format, svg

# Each function imports Altair itself, not this module: see touchpoint.web.charts.


def events_per_day_svg(series: list[dict]) -> str:
    """Bars of events per day with a line of active people, for the account page."""
    import altair as alt

    values = [
        {
            "date": day["date"].isoformat(),
            "events": day["events"],
            "people": day["active_users"],
            "tip": _("%(day)s: %(events)s events, %(people)s active people")
            % {
                "day": date_format(day["date"], "DATE_FORMAT"),
                "events": day["events"],
                "people": day["active_users"],
            },
        }
        for day in series
    ]
    base = alt.Chart(alt.Data(values=values)).encode(
        x=alt.X("date:T", title=None, axis=alt.Axis(format=day_axis_format(), labelAngle=0))
    )
    bars = base.mark_bar(color="#2857c5", opacity=0.8).encode(
        y=alt.Y("events:Q", title=_("Events"), axis=alt.Axis(tickMinStep=1, format="d")),
        description="tip:N",
    )
    line = base.mark_line(color="#b54708", point=False, aria=False).encode(
        y=alt.Y("people:Q", title=_("Active people"), axis=alt.Axis(tickMinStep=1, format="d"))
    )
    chart = alt.layer(bars, line).resolve_scale(y="independent").properties(height=160)
    return svg(chart, width=1100)


def active_people_svg(trend: list[dict]) -> str:
    """Daily, weekly and monthly active people over the window, one line each."""
    import altair as alt

    series = ((_("Daily"), "dau"), (_("Weekly (7 days)"), "wau"), (_("Monthly (30 days)"), "mau"))
    values = [
        {
            "date": day["date"].isoformat(),
            "window": label,
            "people": day[key],
            "tip": f"{date_format(day['date'], 'DATE_FORMAT')} · {label}: {day[key]}",
        }
        for day in trend
        for label, key in series
    ]
    chart = (
        alt.Chart(alt.Data(values=values))
        .mark_line(point=alt.OverlayMarkDef(opacity=0, size=60))  # invisible points carry the hover texts
        .encode(
            x=alt.X("date:T", title=None, axis=alt.Axis(format=day_axis_format(), labelAngle=0)),
            y=alt.Y("people:Q", title=_("Active people"), axis=alt.Axis(tickMinStep=1, format="d")),
            color=alt.Color(
                "window:N",
                title=None,
                sort=[label for label, _key in series],
                scale=alt.Scale(
                    domain=[label for label, _key in series], range=["#9aa4b2", "#2857c5", "#b54708"]
                ),
                legend=alt.Legend(orient="top"),
            ),
            description="tip:N",
        )
        .properties(height=160)
    )
    return svg(chart, width=1100)
