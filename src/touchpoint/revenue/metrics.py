"""Revenue metrics as pure functions over plain data: no ORM, so they are tested by hand and by hypothesis.

Every figure starts from MRR movements (amounts already in the reporting currency). An account's MRR
on a day is the sum of its movements up to and including that day. Definitions, with worked examples,
are in docs/metrics.md; the short version:

- a period's **cohort** is the accounts paying at its start (MRR > 0 at the end of the day before);
- **NRR** = cohort MRR at the end / cohort MRR at the start; **GRR** counts each account's MRR at the
  end at most up to what it paid at the start (expansion cannot hide losses), so GRR ≤ 1 and GRR ≤ NRR;
- **revenue churn** = 1 − GRR (MRR lost to contraction and churn, as a share of the start);
- **logo churn** = cohort accounts paying nothing at the end / cohort accounts;
- new customers and customers who come back (reactivations) during the period are outside the cohort.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Literal

from dateutil.relativedelta import relativedelta

KINDS = ("new", "expansion", "contraction", "churn", "reactivation")
ZERO = Decimal("0")
Unit = Literal["month", "quarter"]


@dataclass(frozen=True)
class Movement:
    account_id: int
    day: date
    kind: str
    delta: Decimal
    reason: str | None = None


@dataclass(frozen=True)
class Period:
    start: date  # first day
    end: date  # last day, inclusive

    @property
    def label(self) -> str:
        months = (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1
        if months == 3 and self.start.month % 3 == 1:
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start:%Y-%m}"


def periods(first: date, last: date, unit: Unit = "month") -> list[Period]:
    """Calendar months or quarters from the one holding `first` to the one holding `last`."""
    step = 3 if unit == "quarter" else 1
    start = first.replace(day=1)
    if unit == "quarter":
        start = start.replace(month=(start.month - 1) // 3 * 3 + 1)
    found = []
    while start <= last:
        following = start + relativedelta(months=step)
        found.append(Period(start, following - timedelta(days=1)))
        start = following
    return found


@dataclass
class PeriodMetrics:
    period: Period
    opening_mrr: Decimal  # every paying account, at the start
    closing_mrr: Decimal  # every paying account, at the end
    movements: dict[str, Decimal]  # MRR change by kind during the period (contraction and churn negative)
    customers: int  # accounts paying at the end
    cohort_accounts: int
    cohort_opening_mrr: Decimal
    cohort_closing_mrr: Decimal
    retained_mrr: Decimal  # Σ min(start, end) over the cohort
    churned_accounts: int

    @property
    def closing_arr(self) -> Decimal:
        return self.closing_mrr * 12

    @property
    def nrr(self) -> float | None:
        return _ratio(self.cohort_closing_mrr, self.cohort_opening_mrr)

    @property
    def grr(self) -> float | None:
        return _ratio(self.retained_mrr, self.cohort_opening_mrr)

    @property
    def revenue_churn(self) -> float | None:
        return None if self.grr is None else 1.0 - self.grr

    @property
    def logo_churn(self) -> float | None:
        return _ratio(Decimal(self.churned_accounts), Decimal(self.cohort_accounts))


def _ratio(part: Decimal, whole: Decimal) -> float | None:
    return float(part / whole) if whole > 0 else None


def revenue_by_period(movements: Iterable[Movement], spans: Sequence[Period]) -> list[PeriodMetrics]:
    """The metrics of each period, in one sweep over the movements in time order."""
    ordered = sorted(movements, key=lambda m: m.day)
    balance: dict[int, Decimal] = defaultdict(lambda: ZERO)
    position = 0
    results = []
    for span in spans:
        while position < len(ordered) and ordered[position].day < span.start:
            balance[ordered[position].account_id] += ordered[position].delta
            position += 1
        opening = {account: mrr for account, mrr in balance.items() if mrr > 0}
        by_kind = dict.fromkeys(KINDS, ZERO)
        while position < len(ordered) and ordered[position].day <= span.end:
            movement = ordered[position]
            balance[movement.account_id] += movement.delta
            by_kind[movement.kind] = by_kind.get(movement.kind, ZERO) + movement.delta
            position += 1
        closing = {account: mrr for account, mrr in balance.items() if mrr > 0}
        cohort_closing = sum((closing.get(account, ZERO) for account in opening), ZERO)
        retained = sum((min(mrr, closing.get(account, ZERO)) for account, mrr in opening.items()), ZERO)
        results.append(
            PeriodMetrics(
                period=span,
                opening_mrr=sum(opening.values(), ZERO),
                closing_mrr=sum(closing.values(), ZERO),
                movements=by_kind,
                customers=len(closing),
                cohort_accounts=len(opening),
                cohort_opening_mrr=sum(opening.values(), ZERO),
                cohort_closing_mrr=cohort_closing,
                retained_mrr=retained,
                churned_accounts=sum(1 for account in opening if account not in closing),
            )
        )
    return results


def revenue_by_group(
    movements: Iterable[Movement], groups: dict[int, str], spans: Sequence[Period]
) -> dict[str, list[PeriodMetrics]]:
    """`revenue_by_period` per group (segment, owner…); `groups` maps account id → group name."""
    split: dict[str, list[Movement]] = defaultdict(list)
    for movement in movements:
        split[groups.get(movement.account_id, "")].append(movement)
    return {name: revenue_by_period(found, spans) for name, found in sorted(split.items())}


@dataclass
class ReasonLoss:
    reason: str
    churned_accounts: int = 0
    churned_mrr: Decimal = ZERO  # positive: MRR lost
    contracted_mrr: Decimal = ZERO


def losses_by_reason(
    movements: Iterable[Movement], start: date, end: date, *, unknown: str = ""
) -> list[ReasonLoss]:
    """MRR lost to churn and contraction between start and end (inclusive), per reason, largest first."""
    found: dict[str, ReasonLoss] = {}
    for movement in movements:
        if not start <= movement.day <= end or movement.kind not in ("churn", "contraction"):
            continue
        reason = movement.reason or unknown
        loss = found.setdefault(reason, ReasonLoss(reason))
        if movement.kind == "churn":
            loss.churned_accounts += 1
            loss.churned_mrr -= movement.delta
        else:
            loss.contracted_mrr -= movement.delta
    return sorted(found.values(), key=lambda loss: (-(loss.churned_mrr + loss.contracted_mrr), loss.reason))


@dataclass
class Lifetime:
    arpa: Decimal | None  # average MRR per paying account at the end of the last period
    monthly_revenue_churn: float | None  # mean of the monthly revenue churn rates given
    value: Decimal | None  # ARPA / monthly revenue churn: None when nothing churned (no finite estimate)


def lifetime_value(last_month: PeriodMetrics | None, months: Sequence[PeriodMetrics]) -> Lifetime:
    """Customer lifetime value from revenue: ARPA divided by the mean monthly revenue churn rate.

    Assumes revenue keeps churning at that mean rate (a customer's expected lifetime is 1/rate months)
    and counts revenue, not margin.
    """
    arpa = (last_month.closing_mrr / last_month.customers) if last_month and last_month.customers else None
    rates = [m.revenue_churn for m in months if m.revenue_churn is not None]
    rate = statistics.fmean(rates) if rates else None
    value = (arpa / Decimal(str(rate))).quantize(Decimal("0.01")) if arpa is not None and rate else None
    return Lifetime(
        arpa=arpa.quantize(Decimal("0.01")) if arpa is not None else None,
        monthly_revenue_churn=rate,
        value=value,
    )


@dataclass
class Durations:
    count: int = 0
    median_days: float | None = None
    mean_days: float | None = None
    samples: list[int] = field(default_factory=list, repr=False)


def durations(pairs: Iterable[tuple[date | None, date | None]]) -> Durations:
    """Days from the first date to the second, over the pairs that have both (and in that order)."""
    days = [(later - earlier).days for earlier, later in pairs if earlier and later and later >= earlier]
    if not days:
        return Durations()
    return Durations(
        count=len(days),
        median_days=float(statistics.median(days)),
        mean_days=statistics.fmean(days),
        samples=days,
    )
