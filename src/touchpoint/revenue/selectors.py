"""Reads for revenue: movements as plain records for revenue.metrics, subscriptions, and the report they make."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from dateutil.relativedelta import relativedelta
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from touchpoint.accounts.rules import readable_accounts_q
from touchpoint.revenue import metrics
from touchpoint.revenue.models import LIVE_STATUSES, MrrMovement, Subscription


@dataclass(frozen=True)
class RevenueFilter:
    """Which accounts a report covers: all of them, or one segment's, one owner's; of those, the ones
    `reader` may read (their book, when CSMs do not read every book), when a reader is given."""

    segment_id: int | None = None
    owner_id: int | None = None
    reader: Any = None

    def apply(self, queryset: QuerySet, prefix: str = "account__") -> QuerySet:
        if self.reader is not None:
            queryset = queryset.filter(readable_accounts_q(self.reader, prefix))
        if self.segment_id is not None:
            queryset = queryset.filter(**{f"{prefix}segment_id": self.segment_id})
        if self.owner_id is not None:
            queryset = queryset.filter(**{f"{prefix}owner_id": self.owner_id})
        return queryset


def movements(
    filters: RevenueFilter = RevenueFilter(), *, until: date | None = None
) -> list[metrics.Movement]:
    """Every MRR movement that counts (not voided, not a reversal) of the covered accounts up to `until`,
    as plain records (one query)."""
    queryset = filters.apply(MrrMovement.objects.effective().order_by())
    if until is not None:
        queryset = queryset.filter(occurred_on__lte=until)
    rows = queryset.values_list("account_id", "occurred_on", "kind", "delta", "churn_reason__name")
    return [metrics.Movement(account, day, kind, delta, reason) for account, day, kind, delta, reason in rows]


def account_groups(filters: RevenueFilter, by: str) -> dict[int, str]:
    """Account id → its segment's or owner's name, for `metrics.revenue_by_group`."""
    from touchpoint.accounts.models import (
        Account,  # accounts is below revenue; imported here to keep it light
    )

    column = {"segment": "segment__name", "owner": "owner__full_name"}[by]
    rows = filters.apply(Account.objects.order_by(), prefix="").values_list("id", column, "owner__email")
    if by == "owner":
        return {pk: name or email or "" for pk, name, email in rows}
    return {pk: name or "" for pk, name, _email in rows}


def deal_dates(
    filters: RevenueFilter = RevenueFilter(),
) -> list[tuple[date | None, date | None, date | None]]:
    """(deal opened, deal closed, first paid) of every subscription that has any of them."""
    return list(
        filters.apply(Subscription.objects.order_by())
        .exclude(deal_opened_on=None, deal_closed_on=None, first_paid_on=None)
        .values_list("deal_opened_on", "deal_closed_on", "first_paid_on")
    )


@dataclass
class RevenueReport:
    """What the dashboard and `GET /api/v1/metrics/revenue` show for a range of periods."""

    unit: metrics.Unit
    periods: list[metrics.PeriodMetrics]
    losses: list[metrics.ReasonLoss]
    lifetime: metrics.Lifetime
    time_to_close: metrics.Durations
    time_to_revenue: metrics.Durations

    @property
    def last(self) -> metrics.PeriodMetrics | None:
        return self.periods[-1] if self.periods else None

    @property
    def complete_index(self) -> int | None:
        """Where the latest period that has ended is: retention of a period still running is not final."""
        today = timezone.localdate()
        ended = [i for i, p in enumerate(self.periods) if p.period.end < today]
        return ended[-1] if ended else None

    @property
    def last_complete(self) -> metrics.PeriodMetrics | None:
        return None if self.complete_index is None else self.periods[self.complete_index]


def default_range(today: date | None = None) -> tuple[date, date]:
    """The last twelve months, this one included."""
    today = today or timezone.localdate()
    return (today.replace(day=1) - relativedelta(months=11)), today


def revenue_report(
    filters: RevenueFilter = RevenueFilter(), *, first: date, last: date, unit: metrics.Unit = "month"
) -> RevenueReport:
    found = movements(filters, until=last)
    spans = metrics.periods(first, last, unit)
    by_period = metrics.revenue_by_period(found, spans)
    # Lifetime value always from months (a quarter's churn rate is not a monthly one), the last 12.
    months = metrics.revenue_by_period(found, metrics.periods(last - relativedelta(months=11), last, "month"))
    ended_months = [m for m in months if m.period.end <= last] or months
    dates = deal_dates(filters)
    return RevenueReport(
        unit=unit,
        periods=by_period,
        losses=metrics.losses_by_reason(found, spans[0].start if spans else first, last),
        lifetime=metrics.lifetime_value(months[-1] if months else None, ended_months),
        time_to_close=metrics.durations((opened, closed) for opened, closed, _paid in dates),
        time_to_revenue=metrics.durations((closed, paid) for _opened, closed, paid in dates),
    )


def subscriptions(*, reader: Any, account_id: int | None = None, status: str = "") -> QuerySet[Subscription]:
    """Subscriptions of the accounts `reader` may read."""
    queryset = (
        Subscription.objects.select_related("account")
        .filter(readable_accounts_q(reader, "account__"))
        .order_by("account_id", "started_on", "id")
    )
    if account_id is not None:
        queryset = queryset.filter(account_id=account_id)
    if status:
        queryset = queryset.filter(status=status)
    return queryset


def account_mrr_on(account_id: int, day: date) -> Decimal:
    """The account's MRR (reporting currency) at the end of that day: its movements that count, summed."""
    total = (
        MrrMovement.objects.effective()
        .filter(account_id=account_id, occurred_on__lte=day)
        .aggregate(total=Sum("delta"))["total"]
    )
    return total or Decimal("0")


def next_renewal_on(account_id: int, day: date) -> date | None:
    """The account's next renewal date (that day or later) among the subscriptions live on that day."""
    return (
        _live_on(day)
        .filter(account_id=account_id, renewal_date__gte=day)
        .order_by("renewal_date")
        .values_list("renewal_date", flat=True)
        .first()
    )


def first_start_on(account_id: int, day: date) -> date | None:
    """When the account's earliest subscription started, counting those started by that day."""
    return (
        Subscription.objects.filter(account_id=account_id, started_on__lte=day)
        .order_by("started_on")
        .values_list("started_on", flat=True)
        .first()
    )


def customer_status_on(account_id: int, day: date) -> str:
    """ "customer" (a subscription live that day), "churned" (had some, none live) or "prospect"."""
    started = Subscription.objects.filter(account_id=account_id, started_on__lte=day)
    if _live_on(day).filter(account_id=account_id).exists():
        return "customer"
    return "churned" if started.exists() else "prospect"


def _live_on(day: date) -> QuerySet[Subscription]:
    # Started by then and not canceled by then (today's live subscriptions, and those canceled later).
    return Subscription.objects.filter(started_on__lte=day).filter(
        Q(canceled_on__isnull=True, status__in=LIVE_STATUSES) | Q(canceled_on__gt=day)
    )
