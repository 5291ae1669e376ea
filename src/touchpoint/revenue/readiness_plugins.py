"""Revenue's KPIs on readiness maps (registered from RevenueConfig.ready()): time to close and time to
revenue for "buy"; lifetime value, gross and net revenue retention for "stay".

Each is the Revenue page's figure (revenue.selectors and revenue.metrics, docs/metrics.md), narrowed
to the map's product (the subscriptions of that product and their MRR movements) and to the accounts
the reader may read, over the latest `context.days` against the `days` before:

- time to close: median days from deal opened to deal closed, of the deals closed in the period;
- time to revenue: median days from deal closed to first payment, of the first payments in the period;
- GRR and NRR: the period's cohort (accounts paying at its start) and its retention;
- lifetime value: as the Revenue page computes it on the period's last day (ARPA over the mean
  revenue churn of the twelve months up to then), against the same on the previous period's last day.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db.models import QuerySet, Sum
from django.utils.translation import gettext_lazy as _

from touchpoint.readiness.kpis import Kpi, KpiContext, KpiValue, kpis
from touchpoint.revenue import metrics, selectors
from touchpoint.revenue.models import MrrMovement, Subscription


@dataclass(frozen=True)
class ProductFilter(selectors.RevenueFilter):
    """The Revenue page's filter, narrowed to one product's subscriptions (empty: every product), so
    the revenue selectors read exactly what they read for the page."""

    product: str = ""

    def apply(self, queryset: QuerySet, prefix: str = "account__") -> QuerySet:
        queryset = super().apply(queryset, prefix)
        if self.product:
            field = "subscription__product" if queryset.model is MrrMovement else "product"
            queryset = queryset.filter(**{f"{field}__iexact": self.product})
        return queryset


def _filters(context: KpiContext) -> ProductFilter:
    return ProductFilter(reader=context.reader, product=context.product)


def _within(day: date | None, window: tuple[date, date]) -> bool:
    return day is not None and window[0] <= day <= window[1]


def _median_days(pairs: Iterable[tuple[date | None, date | None]], context: KpiContext) -> KpiValue | None:
    """Median days from the first date to the second, of the pairs whose second date falls in the
    latest period, against those in the period before."""
    pairs = list(pairs)
    latest = metrics.durations(pair for pair in pairs if _within(pair[1], context.window()))
    previous = metrics.durations(pair for pair in pairs if _within(pair[1], context.previous_window()))
    if latest.median_days is None:
        return None
    return KpiValue(
        value=latest.median_days, previous=previous.median_days, better="lower", count=latest.count
    )


def _deal_dates(context: KpiContext, first: str, second: str) -> list[tuple[date | None, date | None]]:
    """(first, second) of the subscriptions whose `second` date falls in the two periods (one query:
    revenue.selectors.deal_dates' rows, narrowed to the periods in the database)."""
    start, _end = context.previous_window()
    return list(
        _filters(context)
        .apply(Subscription.objects.order_by())
        .filter(**{f"{second}__gte": start, f"{second}__lte": context.today})
        .values_list(first, second)
    )


def time_to_close(context: KpiContext) -> KpiValue | None:
    """Median days from deal opened to deal closed, of the deals closed in the period (one query)."""
    return _median_days(_deal_dates(context, "deal_opened_on", "deal_closed_on"), context)


def time_to_revenue(context: KpiContext) -> KpiValue | None:
    """Median days from deal closed to first payment, of the first payments in the period (one query)."""
    return _median_days(_deal_dates(context, "deal_closed_on", "first_paid_on"), context)


def _movements(context: KpiContext, since: date) -> list[metrics.Movement]:
    """What revenue.selectors.movements gives up to today, with the history before `since` summed per
    account into one movement the day before: the same balances for every period from `since` on,
    in two queries that read the recent movements only."""
    movements = _filters(context).apply(MrrMovement.objects.effective().order_by())
    history = (
        movements.filter(occurred_on__lt=since)
        .values("account_id")
        .annotate(total=Sum("delta"))
        .values_list("account_id", "total")
    )
    day_before = since - timedelta(days=1)
    found = [metrics.Movement(account, day_before, "new", total) for account, total in history if total]
    rows = movements.filter(occurred_on__gte=since, occurred_on__lte=context.today).values_list(
        "account_id", "occurred_on", "kind", "delta", "churn_reason__name"
    )
    found.extend(metrics.Movement(*row) for row in rows)
    return found


def _retention(context: KpiContext) -> tuple[metrics.PeriodMetrics, metrics.PeriodMetrics]:
    """The latest period's and the previous one's revenue metrics (two queries)."""
    found = _movements(context, since=context.previous_window()[0])
    previous, latest = metrics.revenue_by_period(
        found, [metrics.Period(*context.previous_window()), metrics.Period(*context.window())]
    )
    return latest, previous


def _percent(ratio: float | None) -> float | None:
    return None if ratio is None else ratio * 100


def gross_revenue_retention(context: KpiContext) -> KpiValue | None:
    """GRR (%) of the accounts paying at the start of the period."""
    latest, previous = _retention(context)
    if latest.grr is None:
        return None
    return KpiValue(
        value=latest.grr * 100, previous=_percent(previous.grr), better="higher", count=latest.cohort_accounts
    )


def net_revenue_retention(context: KpiContext) -> KpiValue | None:
    """NRR (%) of the accounts paying at the start of the period."""
    latest, previous = _retention(context)
    if latest.nrr is None:
        return None
    return KpiValue(
        value=latest.nrr * 100, previous=_percent(previous.nrr), better="higher", count=latest.cohort_accounts
    )


def _lifetime_on(found: list[metrics.Movement], last: date) -> tuple[metrics.Lifetime, int]:
    """Lifetime value on `last` as the Revenue page computes it (revenue.selectors.revenue_report), and
    the paying accounts its ARPA is over."""
    upto = [movement for movement in found if movement.day <= last]
    months = metrics.revenue_by_period(upto, metrics.periods(last - relativedelta(months=11), last, "month"))
    ended_months = [m for m in months if m.period.end <= last] or months
    lifetime = metrics.lifetime_value(months[-1] if months else None, ended_months)
    return lifetime, months[-1].customers if months else 0


def lifetime_value(context: KpiContext) -> KpiValue | None:
    """Customer lifetime value today against on the previous period's last day (two queries)."""
    previous_last = context.previous_window()[1]
    found = _movements(context, since=(previous_last - relativedelta(months=11)).replace(day=1))
    latest, customers = _lifetime_on(found, context.today)
    if latest.value is None:
        return None
    previous, _customers = _lifetime_on(found, previous_last)
    return KpiValue(
        value=float(latest.value),
        previous=float(previous.value) if previous.value is not None else None,
        better="higher",
        count=customers,
    )


def register() -> None:
    kpis.add(
        Kpi(
            key="time_to_close",
            label=_("Time to close"),
            stage="buy",
            unit=_("days"),
            compute=time_to_close,
            order=10,
            permission="revenue.view_subscription",
        )
    )
    kpis.add(
        Kpi(
            key="time_to_revenue",
            label=_("Time to revenue"),
            stage="buy",
            unit=_("days"),
            compute=time_to_revenue,
            order=20,
            permission="revenue.view_subscription",
        )
    )
    kpis.add(
        Kpi(
            key="lifetime_value",
            label=_("Customer lifetime value"),
            stage="stay",
            unit=settings.TOUCHPOINT_CURRENCY,
            compute=lifetime_value,
            order=20,
            decimals=0,
            permission="revenue.view_mrrmovement",
        )
    )
    kpis.add(
        Kpi(
            key="grr",
            label=_("Gross revenue retention"),
            stage="stay",
            unit="%",
            compute=gross_revenue_retention,
            order=30,
            permission="revenue.view_mrrmovement",
        )
    )
    kpis.add(
        Kpi(
            key="nrr",
            label=_("Net revenue retention"),
            stage="stay",
            unit="%",
            compute=net_revenue_retention,
            order=40,
            permission="revenue.view_mrrmovement",
        )
    )
