"""Renewal forecast: the ARR expected to renew in each coming month, from how long subscriptions have lasted.

A Kaplan–Meier survival curve (lifelines) over subscription lifetimes — days from start to cancellation,
or to today for the ones still live (censored) — per segment, or over every subscription when a segment
has too little history. A live subscription of tenure t renewing at tenure r is expected to be still
there after its renewal with probability S(r) / S(t); its expected renewing ARR is that times its ARR.

The same model is back-tested on each of the last twelve months: fitted only on what was known at the
start of the month (lifetimes censored there, later subscriptions left out), it forecasts the ARR of the
renewals falling in that month, beside what actually renewed (subscriptions still live after their
renewal day). The mean absolute percentage error over those months is the forecast's accuracy.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.utils import timezone

from touchpoint.revenue.models import MrrMovement, Subscription
from touchpoint.revenue.selectors import RevenueFilter

MIN_SEGMENT_SUBSCRIPTIONS = 30
MIN_SEGMENT_EVENTS = 3


@dataclass(frozen=True)
class Lifetime:
    """What the forecast needs of one subscription, as plain data (so it is tested without a database)."""

    subscription_id: int
    segment: str
    started_on: date
    term_months: int
    canceled_on: date | None
    mrr_changes: tuple[tuple[date, Decimal], ...]  # (day, delta in the reporting currency), in time order

    def mrr_on(self, day: date) -> Decimal:
        days = [d for d, _delta in self.mrr_changes]
        return sum((delta for _d, delta in self.mrr_changes[: bisect_right(days, day)]), Decimal("0"))

    def live_on(self, day: date) -> bool:
        return self.started_on <= day and (self.canceled_on is None or self.canceled_on > day)

    def renewals_between(self, first: date, last: date) -> list[date]:
        """Its renewal days (start + whole terms) between first and last, inclusive."""
        found: list[date] = []
        k = 1
        while True:
            day = self.started_on + relativedelta(months=self.term_months * k)
            if day > last:
                return found
            if day >= first:
                found.append(day)
            k += 1


class Survival:
    """S(t) per segment (falling back to all subscriptions) from lifetimes as known on `as_of`."""

    def __init__(self, lifetimes: list[Lifetime], as_of: date) -> None:
        known = [lt for lt in lifetimes if lt.started_on < as_of]
        self.curves: dict[str, tuple[list[float], list[float]] | None] = {}
        self.overall = self._fit(known, as_of)
        by_segment: dict[str, list[Lifetime]] = defaultdict(list)
        for lifetime in known:
            by_segment[lifetime.segment].append(lifetime)
        for segment, members in by_segment.items():
            events = sum(1 for lt in members if lt.canceled_on is not None and lt.canceled_on < as_of)
            if len(members) >= MIN_SEGMENT_SUBSCRIPTIONS and events >= MIN_SEGMENT_EVENTS:
                self.curves[segment] = self._fit(members, as_of)

    @staticmethod
    def _fit(lifetimes: list[Lifetime], as_of: date) -> tuple[list[float], list[float]] | None:
        if not lifetimes:
            return None
        durations, observed = [], []
        for lifetime in lifetimes:
            ended = lifetime.canceled_on is not None and lifetime.canceled_on < as_of
            end = lifetime.canceled_on if ended and lifetime.canceled_on is not None else as_of
            durations.append(max(0, (end - lifetime.started_on).days))
            observed.append(ended)
        from lifelines import (
            KaplanMeierFitter,  # on first use: most processes never need it (tests/web/test_imports.py)
        )

        fitted = KaplanMeierFitter().fit(durations, observed).survival_function_
        # The step function as two lists, read with bisect: lifelines' own lookup costs a pandas call.
        return list(fitted.index.astype(float)), list(fitted.iloc[:, 0].astype(float))

    def at(self, segment: str, days: int) -> float:
        curve = self.curves.get(segment, self.overall)
        if curve is None:
            return 1.0
        times, values = curve
        index = bisect_right(times, days) - 1
        return values[index] if index >= 0 else 1.0

    def renews(self, lifetime: Lifetime, *, now: date, renewal: date) -> float:
        """P(still there after the renewal | there now)."""
        alive = self.at(lifetime.segment, (now - lifetime.started_on).days)
        after = self.at(lifetime.segment, (renewal - lifetime.started_on).days)
        return 1.0 if alive <= 0 else min(1.0, after / alive)


@dataclass
class MonthForecast:
    month: date
    due_arr: Decimal  # ARR of the renewals falling in the month, as it was at the month's start
    expected_arr: Decimal
    actual_arr: Decimal | None  # past months only
    renewals: int

    @property
    def error(self) -> float | None:
        if self.actual_arr is None or not self.actual_arr:
            return None
        return abs(float(self.expected_arr - self.actual_arr)) / float(self.actual_arr)


@dataclass
class Forecast:
    past: list[MonthForecast]
    coming: list[MonthForecast]

    @property
    def mape(self) -> float | None:
        errors = [m.error for m in self.past if m.error is not None]
        return sum(errors) / len(errors) if errors else None

    def quarters(self, months: list[MonthForecast]) -> list[tuple[str, Decimal, Decimal, Decimal | None]]:
        """(quarter, due, expected, actual) summed from the months."""
        totals: dict[str, list] = {}
        for m in months:
            key = f"{m.month.year}-Q{(m.month.month - 1) // 3 + 1}"
            row = totals.setdefault(key, [Decimal("0"), Decimal("0"), Decimal("0"), True])
            row[0] += m.due_arr
            row[1] += m.expected_arr
            if m.actual_arr is None:
                row[3] = False  # a quarter still running has no actual yet
            else:
                row[2] += m.actual_arr
        return [
            (key, due, expected, actual if complete else None)
            for key, (due, expected, actual, complete) in totals.items()
        ]


def month_forecast(
    lifetimes: list[Lifetime], month: date, *, now: date | None = None, survival: Survival | None = None
) -> MonthForecast:
    """Renewals in `month` forecast from what was known at `now` (default: the month's first day).

    Past months (those ended before `now` is reached by time) also get the ARR that actually renewed.
    """
    start = month.replace(day=1)
    end = start + relativedelta(months=1) - timedelta(days=1)
    now = now or start
    survival = survival or Survival(lifetimes, now)
    due_arr = expected = actual = Decimal("0")
    renewals = 0
    for lifetime in lifetimes:
        if not lifetime.live_on(now):
            continue
        for renewal in lifetime.renewals_between(max(start, now), end):
            arr = lifetime.mrr_on(now) * 12
            if arr <= 0:
                continue
            renewals += 1
            due_arr += arr
            expected += arr * Decimal(str(survival.renews(lifetime, now=now, renewal=renewal)))
            if lifetime.live_on(renewal):
                actual += arr
    return MonthForecast(
        month=start,
        due_arr=due_arr.quantize(Decimal("0.01")),
        expected_arr=expected.quantize(Decimal("0.01")),
        actual_arr=actual,
        renewals=renewals,
    )


def forecast(
    lifetimes: list[Lifetime], *, today: date, past_months: int = 12, coming_months: int = 12
) -> Forecast:
    this_month = today.replace(day=1)
    past = []
    for back in range(past_months, 0, -1):
        month = this_month - relativedelta(months=back)
        past.append(month_forecast(lifetimes, month))  # fitted on what was known on its first day
    survival = Survival(lifetimes, today)
    coming = []
    for ahead in range(coming_months):
        month = this_month + relativedelta(months=ahead)
        found = month_forecast(lifetimes, month, now=today, survival=survival)
        found.actual_arr = None  # not happened yet
        coming.append(found)
    return Forecast(past=past, coming=coming)


def lifetimes(filters: RevenueFilter = RevenueFilter()) -> list[Lifetime]:
    """Every subscription of the covered accounts with its MRR history (three queries).

    A subscription whose only movements were voided (entered by mistake) is left out, as if it had
    never been entered.
    """
    changes: dict[int, list[tuple[date, Decimal]]] = defaultdict(list)
    movements = filters.apply(MrrMovement.objects.effective().order_by("occurred_on", "id"))
    for subscription_id, day, delta in movements.values_list("subscription_id", "occurred_on", "delta"):
        changes[subscription_id].append((day, delta))
    voided = set(
        filters.apply(MrrMovement.objects.filter(voided_at__isnull=False).order_by()).values_list(
            "subscription_id", flat=True
        )
    )
    rows = (
        filters.apply(Subscription.objects.order_by())
        .exclude(pk__in=voided - set(changes))
        .values_list("id", "account__segment__name", "started_on", "term_months", "canceled_on")
    )
    return [
        Lifetime(pk, segment or "", started_on, term, canceled_on, tuple(changes.get(pk, ())))
        for pk, segment, started_on, term, canceled_on in rows
    ]


def renewal_forecast(filters: RevenueFilter = RevenueFilter(), *, today: date | None = None) -> Forecast:
    return forecast(lifetimes(filters), today=today or timezone.localdate())


def finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None
