"""Revenue charts, drawn on the server as SVG (Vega-Lite through Altair and vl-convert): no JavaScript.

Months, series and hover texts are written by Django in the reader's language before they reach the
chart (see touchpoint.web.charts); ratios (GRR, NRR, logo churn) are percentages on the axis and in the
hover text.
"""

from __future__ import annotations

from typing import Any

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from touchpoint.revenue import metrics
from touchpoint.revenue.churn_reasons import reason_label
from touchpoint.web.charts import svg
from touchpoint.web.display import month_label, percent, period_label

# Each function imports Altair itself, not this module: see touchpoint.web.charts.

WIDTH = 600  # the whole chart, axes and legend included: a card of the dashboard's grid
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


def _money(value: float, digits: int = 0) -> str:
    return number_format(value, digits, force_grouping=True)


def _x_periods(count: int) -> Any:
    """The period axis: labels level when a dozen fit, slanted (never cut) when there are more."""
    import altair as alt

    return alt.X(
        "period:O", title=None, sort=None, axis=alt.Axis(labelAngle=0 if count <= 6 else -40, labelPadding=4)
    )


def mrr_trend_svg(periods: list[metrics.PeriodMetrics]) -> str:
    import altair as alt

    values = []
    for p in periods:
        label = period_label(p.period)
        values.append(
            {
                "period": label,
                "mrr": float(p.closing_mrr),
                "tip": _("%(period)s: MRR %(mrr)s, %(customers)s paying accounts")
                % {"period": label, "mrr": _money(float(p.closing_mrr)), "customers": p.customers},
            }
        )
    area = (
        alt.Chart(alt.Data(values=values))
        .mark_area(line={"color": "#2857c5"}, color="#c9d7f5")
        .encode(
            x=_x_periods(len(values)),
            y=alt.Y("mrr:Q", title=_("MRR at the end"), axis=alt.Axis(format="~s")),
        )
    )
    points = area.mark_point(filled=True, color="#2857c5", size=30).encode(description="tip:N")
    return svg(alt.layer(area, points).properties(height=200), width=WIDTH)


def movements_svg(periods: list[metrics.PeriodMetrics]) -> str:
    """The MRR waterfall per period: what was added above zero, what was lost below it, by kind."""
    import altair as alt

    labels = kind_labels()
    kinds = ("new", "expansion", "reactivation", "contraction", "churn")
    order = [labels[kind] for kind in kinds]
    values = []
    net = []
    for p in periods:
        label = period_label(p.period)
        for kind in metrics.KINDS:
            amount = float(p.movements.get(kind, 0))
            values.append(
                {
                    "period": label,
                    "kind": labels[kind],
                    "rank": kinds.index(kind),
                    "mrr": amount,
                    "tip": f"{label} · {labels[kind]}: {_money(amount)}",
                }
            )
        total = float(sum(p.movements.values()))
        net.append(
            {
                "period": label,
                "net": total,
                "tip": _("%(period)s: net %(mrr)s") % {"period": label, "mrr": _money(total)},
            }
        )
    bars = (
        alt.Chart(alt.Data(values=values))
        .mark_bar()
        .encode(
            x=_x_periods(len(periods)),
            y=alt.Y("mrr:Q", title=_("MRR change"), axis=alt.Axis(format="~s"), stack="zero"),
            color=alt.Color(
                "kind:N",
                title=None,
                sort=order,
                scale=alt.Scale(domain=order, range=[KIND_COLOURS[k] for k in kinds]),
                legend=alt.Legend(orient="top"),
            ),
            order=alt.Order("rank:Q"),
            description="tip:N",
        )
    )
    line = (
        alt.Chart(alt.Data(values=net))
        .mark_line(color="#1d2433", point=True)
        .encode(x=alt.X("period:O", sort=None), y="net:Q", description="tip:N")
    )
    return svg(alt.layer(bars, line).properties(height=220), width=WIDTH)


def retention_svg(periods: list[metrics.PeriodMetrics]) -> str:
    """GRR and NRR per period, as percentages."""
    import altair as alt

    grr, nrr = _("GRR"), _("NRR")
    values = []
    for p in periods:
        if p.grr is not None:
            label = period_label(p.period)
            values += [
                {
                    "period": label,
                    "measure": grr,
                    "value": p.grr,
                    "tip": f"{label} · {grr}: {percent(p.grr)}",
                },
                {
                    "period": label,
                    "measure": nrr,
                    "value": p.nrr,
                    "tip": f"{label} · {nrr}: {percent(p.nrr)}",
                },
            ]
    chart = (
        alt.Chart(alt.Data(values=values))
        .mark_line(point=True)
        .encode(
            x=_x_periods(len(values) // 2),
            y=alt.Y(
                "value:Q", title=_("Retention"), axis=alt.Axis(format=".0%"), scale=alt.Scale(zero=False)
            ),
            color=alt.Color(
                "measure:N",
                title=None,
                sort=[grr, nrr],
                scale=alt.Scale(domain=[grr, nrr], range=["#c2413b", "#2857c5"]),
                legend=alt.Legend(orient="top"),
            ),
            description="tip:N",
        )
        .properties(height=200)
    )
    return svg(chart, width=WIDTH)


def logo_churn_svg(periods: list[metrics.PeriodMetrics]) -> str:
    import altair as alt

    values = []
    for p in periods:
        if p.logo_churn is not None:
            label = period_label(p.period)
            values.append(
                {
                    "period": label,
                    "churn": p.logo_churn,
                    "tip": _("%(period)s: %(share)s (%(accounts)s accounts lost)")
                    % {"period": label, "share": percent(p.logo_churn), "accounts": p.churned_accounts},
                }
            )
    chart = (
        alt.Chart(alt.Data(values=values))
        .mark_bar(color="#c2413b")
        .encode(
            x=_x_periods(len(values)),
            y=alt.Y("churn:Q", title=_("Logo churn"), axis=alt.Axis(format=".0%")),
            description="tip:N",
        )
        .properties(height=180)
    )
    return svg(chart, width=WIDTH)


def reasons_svg(losses: list[metrics.ReasonLoss], unknown: str) -> str:
    """MRR lost per churn reason (the built-in reasons in the reader's language)."""
    import altair as alt

    churn, contraction = _("Churn"), _("Contraction")
    values = []
    for loss in losses:
        reason = reason_label(loss.reason) or unknown
        for kind, amount in ((churn, loss.churned_mrr), (contraction, loss.contracted_mrr)):
            values.append(
                {
                    "reason": reason,
                    "kind": kind,
                    "mrr": float(amount),
                    "tip": f"{reason} · {kind}: {_money(float(amount))}",
                }
            )
    chart = (
        alt.Chart(alt.Data(values=values))
        .mark_bar()
        .encode(
            y=alt.Y("reason:N", title=None, sort="-x"),
            x=alt.X("mrr:Q", title=_("MRR lost"), axis=alt.Axis(format="~s"), stack="zero"),
            color=alt.Color(
                "kind:N",
                title=None,
                sort=[churn, contraction],
                scale=alt.Scale(domain=[churn, contraction], range=["#c2413b", "#d08a2e"]),
                legend=alt.Legend(orient="top"),
            ),
            description="tip:N",
        )
        .properties(height=max(80, 28 * len(losses)))
    )
    return svg(chart, width=WIDTH)


def forecast_svg(outlook) -> str:
    """Expected renewing ARR per month, beside what renewed in the past months (the back-test)."""
    import altair as alt

    due, expected, renewed = _("Due"), _("Forecast"), _("Renewed")
    values = []
    months = outlook.past + outlook.coming
    for month in months:
        label = month_label(month.month)
        for series, amount in (
            (expected, month.expected_arr),
            (due, month.due_arr),
            (renewed, month.actual_arr),
        ):
            if amount is not None:
                values.append(
                    {
                        "month": label,
                        "series": series,
                        "arr": float(amount),
                        "tip": f"{label} · {series}: {_money(float(amount))}",
                    }
                )
    order = [due, expected, renewed]
    chart = (
        alt.Chart(alt.Data(values=values))
        .mark_line(point=True)
        .encode(
            x=alt.X(
                "month:O", title=None, sort=None, axis=alt.Axis(labelAngle=0 if len(months) <= 8 else -40)
            ),
            y=alt.Y("arr:Q", title=_("ARR"), axis=alt.Axis(format="~s")),
            color=alt.Color(
                "series:N",
                title=None,
                sort=order,
                scale=alt.Scale(domain=order, range=["#9aa4b2", "#2857c5", "#3f8f4f"]),
                legend=alt.Legend(orient="top"),
            ),
            description="tip:N",
        )
        .properties(height=220)
    )
    return svg(chart, width=1100)
