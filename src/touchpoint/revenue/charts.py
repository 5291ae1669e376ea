"""Revenue charts, drawn on the server as SVG (Vega-Lite through Altair and vl-convert): no JavaScript."""

from __future__ import annotations

from django.utils.translation import gettext as _

from touchpoint.revenue import metrics
from touchpoint.web.charts import svg

# Each function imports Altair itself, not this module: see touchpoint.web.charts.

WIDTH = 560
KIND_COLOURS = {
    "new": "#2857c5",
    "expansion": "#3f8f4f",
    "reactivation": "#7a5cc2",
    "contraction": "#d08a2e",
    "churn": "#c2413b",
}


def kind_labels() -> dict[str, str]:
    return {
        "new": _("New"),
        "expansion": _("Expansion"),
        "reactivation": _("Reactivation"),
        "contraction": _("Contraction"),
        "churn": _("Churn"),
    }


def mrr_trend_svg(periods: list[metrics.PeriodMetrics]) -> str:
    import altair as alt

    values = [
        {"period": p.period.label, "mrr": float(p.closing_mrr), "customers": p.customers} for p in periods
    ]
    chart = (
        alt.Chart(alt.Data(values=values))
        .mark_area(line={"color": "#2857c5"}, color="#c9d7f5")
        .encode(
            x=alt.X("period:O", title=None, sort=None),
            y=alt.Y("mrr:Q", title=_("MRR at the end"), axis=alt.Axis(format="~s")),
            tooltip=["period:O", alt.Tooltip("mrr:Q", format=",.2f"), "customers:Q"],
        )
        .properties(height=180)
    )
    return svg(chart, width=WIDTH)


def movements_svg(periods: list[metrics.PeriodMetrics]) -> str:
    """The MRR waterfall per period: what was added above zero, what was lost below it, by kind."""
    import altair as alt

    labels = kind_labels()
    order = [labels[kind] for kind in ("new", "expansion", "reactivation", "contraction", "churn")]
    values = [
        {"period": p.period.label, "kind": labels[kind], "mrr": float(p.movements.get(kind, 0))}
        for p in periods
        for kind in metrics.KINDS
    ]
    net = [{"period": p.period.label, "net": float(sum(p.movements.values()))} for p in periods]
    bars = (
        alt.Chart(alt.Data(values=values))
        .mark_bar()
        .encode(
            x=alt.X("period:O", title=None, sort=None),
            y=alt.Y("sum(mrr):Q", title=_("MRR change"), axis=alt.Axis(format="~s")),
            color=alt.Color(
                "kind:N",
                title=None,
                sort=order,
                scale=alt.Scale(
                    domain=order,
                    range=[
                        KIND_COLOURS[k] for k in ("new", "expansion", "reactivation", "contraction", "churn")
                    ],
                ),
                legend=alt.Legend(orient="top"),
            ),
            order=alt.Order("kind:N"),
            tooltip=["period:O", "kind:N", alt.Tooltip("mrr:Q", format=",.2f")],
        )
    )
    line = (
        alt.Chart(alt.Data(values=net))
        .mark_line(color="#1d2433", point=True)
        .encode(
            x=alt.X("period:O", sort=None),
            y="net:Q",
            tooltip=["period:O", alt.Tooltip("net:Q", format=",.2f")],
        )
    )
    return svg(alt.layer(bars, line).properties(height=200), width=WIDTH)


def retention_svg(periods: list[metrics.PeriodMetrics]) -> str:
    import altair as alt

    values = []
    for p in periods:
        if p.grr is not None:
            values += [
                {"period": p.period.label, "measure": _("GRR"), "value": p.grr},
                {"period": p.period.label, "measure": _("NRR"), "value": p.nrr},
            ]
    chart = (
        alt.Chart(alt.Data(values=values))
        .mark_line(point=True)
        .encode(
            x=alt.X("period:O", title=None, sort=None),
            y=alt.Y("value:Q", title=_("Retention"), axis=alt.Axis(format="%"), scale=alt.Scale(zero=False)),
            color=alt.Color(
                "measure:N",
                title=None,
                scale=alt.Scale(range=["#c2413b", "#2857c5"]),
                legend=alt.Legend(orient="top"),
            ),
            tooltip=["period:O", "measure:N", alt.Tooltip("value:Q", format=".1%")],
        )
        .properties(height=180)
    )
    return svg(chart, width=WIDTH)


def logo_churn_svg(periods: list[metrics.PeriodMetrics]) -> str:
    import altair as alt

    values = [
        {"period": p.period.label, "churn": p.logo_churn, "accounts": p.churned_accounts}
        for p in periods
        if p.logo_churn is not None
    ]
    chart = (
        alt.Chart(alt.Data(values=values))
        .mark_bar(color="#c2413b")
        .encode(
            x=alt.X("period:O", title=None, sort=None),
            y=alt.Y("churn:Q", title=_("Logo churn"), axis=alt.Axis(format="%")),
            tooltip=["period:O", alt.Tooltip("churn:Q", format=".1%"), "accounts:Q"],
        )
        .properties(height=160)
    )
    return svg(chart, width=WIDTH)


def reasons_svg(losses: list[metrics.ReasonLoss], unknown: str) -> str:
    import altair as alt

    values = []
    for loss in losses:
        values += [
            {"reason": loss.reason or unknown, "kind": _("Churn"), "mrr": float(loss.churned_mrr)},
            {"reason": loss.reason or unknown, "kind": _("Contraction"), "mrr": float(loss.contracted_mrr)},
        ]
    chart = (
        alt.Chart(alt.Data(values=values))
        .mark_bar()
        .encode(
            y=alt.Y("reason:N", title=None, sort="-x"),
            x=alt.X("sum(mrr):Q", title=_("MRR lost"), axis=alt.Axis(format="~s")),
            color=alt.Color(
                "kind:N",
                title=None,
                scale=alt.Scale(range=["#c2413b", "#d08a2e"]),
                legend=alt.Legend(orient="top"),
            ),
            tooltip=["reason:N", "kind:N", alt.Tooltip("mrr:Q", format=",.2f")],
        )
        .properties(height=max(80, 26 * len(losses)))
    )
    return svg(chart, width=WIDTH)


def forecast_svg(outlook) -> str:
    """Expected renewing ARR per month, beside what renewed in the past months (the back-test)."""
    import altair as alt

    values = []
    for month in outlook.past + outlook.coming:
        label = f"{month.month:%Y-%m}"
        values.append({"month": label, "series": _("Forecast"), "arr": float(month.expected_arr)})
        values.append({"month": label, "series": _("Due"), "arr": float(month.due_arr)})
        if month.actual_arr is not None:
            values.append({"month": label, "series": _("Renewed"), "arr": float(month.actual_arr)})
    order = [_("Due"), _("Forecast"), _("Renewed")]
    chart = (
        alt.Chart(alt.Data(values=values))
        .mark_line(point=True)
        .encode(
            x=alt.X("month:O", title=None, sort=None),
            y=alt.Y("arr:Q", title=_("ARR"), axis=alt.Axis(format="~s")),
            color=alt.Color(
                "series:N",
                title=None,
                sort=order,
                scale=alt.Scale(domain=order, range=["#9aa4b2", "#2857c5", "#3f8f4f"]),
                legend=alt.Legend(orient="top"),
            ),
            tooltip=["month:O", "series:N", alt.Tooltip("arr:Q", format=",.0f")],
        )
        .properties(height=200)
    )
    return svg(chart, width=WIDTH)
