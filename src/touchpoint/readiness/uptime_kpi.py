"""Readiness's own KPI: the product's uptime, from the months people typed in or monitoring posted.

Complete calendar months only (the running one is not over): the mean `uptime_percent` of the last
three (`context.days` / 30) against the three before, over the UptimeMonth rows of the map's product,
or of every product when the map names none. Registered from readiness/plugins.py.
"""

from __future__ import annotations

from dateutil.relativedelta import relativedelta
from django.db.models import Avg, Count, Q
from django.utils.translation import gettext_lazy as _

from touchpoint.readiness.kpis import Kpi, KpiContext, KpiValue, kpis
from touchpoint.readiness.models import UptimeMonth


def uptime(context: KpiContext) -> KpiValue | None:
    """Mean monthly uptime (%) of the latest complete months against the ones before (one query)."""
    months = max(1, context.days // 30)
    this_month = context.today.replace(day=1)
    latest_start = this_month - relativedelta(months=months)
    previous_start = this_month - relativedelta(months=2 * months)
    rows = UptimeMonth.objects.filter(month__gte=previous_start, month__lt=this_month)
    if context.product:
        rows = rows.filter(product__iexact=context.product)
    latest = Q(month__gte=latest_start)
    found = rows.aggregate(
        value=Avg("uptime_percent", filter=latest),
        count=Count("pk", filter=latest),
        previous=Avg("uptime_percent", filter=~latest),
    )
    if found["value"] is None:
        return None
    previous = float(found["previous"]) if found["previous"] is not None else None
    return KpiValue(
        value=float(found["value"]),
        previous=previous,
        better="higher",
        count=found["count"],
        # Uptime sits just under 100: its trend is its downtime's, flat within 1 % of the downtime before.
        flat_within=(100 - previous) * 0.01 if previous is not None else None,
    )


def register() -> None:
    kpis.add(
        Kpi(
            key="uptime",
            label=_("Uptime"),
            stage="use",
            unit="%",
            compute=uptime,
            how_to_bring=_(
                "Record the product's uptime for each month (by hand, or posted by your monitoring), and "
                "the mean of the last three complete months shows here."
            ),
            order=40,
            decimals=3,  # 99.9 and 99.95 are different promises
        )
    )
