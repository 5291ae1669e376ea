"""Reads of renewal opportunities that the renewals page, the account panel, home and the API share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.apps import apps
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from touchpoint.accounts.rules import readable_accounts_q
from touchpoint.revenue.models import (
    OPEN_STAGES,
    ExchangeRate,
    ForecastCategory,
    RenewalOpportunity,
)
from touchpoint.revenue.services import reporting_currency

CENT = Decimal("0.01")


def with_details(queryset: QuerySet[RenewalOpportunity]) -> QuerySet[RenewalOpportunity]:
    """The rows a list shows: subscription, account, owner and the account's latest health grade, one query."""
    health_score = apps.get_model("health", "HealthScore")
    latest_grade = (
        health_score.objects.filter(account_id=OuterRef("account_id")).order_by("-day").values("grade")[:1]
    )
    return queryset.select_related("subscription", "account", "owner", "churn_reason").annotate(
        health_grade=Subquery(latest_grade)
    )


def opportunities(
    *,
    reader: Any,
    scope: Q | None = None,
    stage: str = "",
    forecast_category: str = "",
    owner_id: int | None = None,
    account_id: int | None = None,
    due_after: date | None = None,
    due_before: date | None = None,
    overdue: bool | None = None,
    open_only: bool = False,
    today: date | None = None,
) -> QuerySet[RenewalOpportunity]:
    """Renewal opportunities of the accounts `reader` may read (within `scope`, a filter on the account
    path "account__", when given), soonest first. `overdue`: open ones whose date has passed (or,
    False, everything else); `due_before`/`due_after` bound the renewal date (inclusive)."""
    today = today or timezone.localdate()
    queryset = RenewalOpportunity.objects.filter(readable_accounts_q(reader, "account__"))
    if scope is not None:
        queryset = queryset.filter(scope)
    if stage:
        queryset = queryset.filter(stage=stage)
    if forecast_category:
        queryset = queryset.filter(forecast_category=forecast_category)
    if owner_id is not None:
        queryset = queryset.filter(owner_id=owner_id)
    if account_id is not None:
        queryset = queryset.filter(account_id=account_id)
    if due_after is not None:
        queryset = queryset.filter(renewal_date__gte=due_after)
    if due_before is not None:
        queryset = queryset.filter(renewal_date__lte=due_before)
    overdue_q = Q(stage__in=OPEN_STAGES, renewal_date__lt=today)
    if overdue is True:
        queryset = queryset.filter(overdue_q)
    elif overdue is False:
        queryset = queryset.exclude(overdue_q)
    if open_only:
        queryset = queryset.filter(stage__in=OPEN_STAGES)
    return with_details(queryset).order_by("renewal_date", "account__name", "id")


def overdue(
    *, reader: Any, scope: Q | None = None, today: date | None = None
) -> QuerySet[RenewalOpportunity]:
    """Renewals whose date has passed with no outcome recorded: they stay here until one is."""
    return opportunities(reader=reader, scope=scope, overdue=True, today=today)


def reporting_rates() -> dict[str, Decimal]:
    """Every exchange rate to the reporting currency, in one query (the reporting currency is 1)."""
    rates = dict(ExchangeRate.objects.values_list("currency", "rate"))
    rates[reporting_currency()] = Decimal("1")
    return rates


def in_reporting(amount: Decimal, currency: str, rates: dict[str, Decimal]) -> Decimal | None:
    """`amount` in the reporting currency, or None when no rate is known for `currency`."""
    rate = rates.get(currency.upper())
    return None if rate is None else (amount * rate).quantize(CENT, ROUND_HALF_UP)


@dataclass
class ForecastLine:
    category: str
    label: str
    count: int
    arr: Decimal  # in the reporting currency


@dataclass
class ForecastSummary:
    lines: list[ForecastLine]
    total: Decimal
    unconverted: int  # opportunities in a currency without an exchange rate, left out of the sums


def forecast_summary(found: list[RenewalOpportunity]) -> ForecastSummary:
    """Expected ARR by forecast category (reporting currency), every category listed, in their order."""
    reporting = reporting_currency()
    if all(o.subscription.currency.upper() == reporting for o in found):
        rates = {reporting: Decimal("1")}  # no query when everything is in the reporting currency
    else:
        rates = reporting_rates()
    sums = {category: Decimal("0") for category in ForecastCategory.values}
    counts = dict.fromkeys(ForecastCategory.values, 0)
    unconverted = 0
    for opportunity in found:
        amount = in_reporting(opportunity.expected_arr, opportunity.subscription.currency, rates)
        if amount is None:
            unconverted += 1
            continue
        sums[opportunity.forecast_category] += amount
        counts[opportunity.forecast_category] += 1
    lines = [
        ForecastLine(category=value, label=str(label), count=counts[value], arr=sums[value])
        for value, label in ForecastCategory.choices
    ]
    return ForecastSummary(lines=lines, total=sum(sums.values(), Decimal("0")), unconverted=unconverted)


def days_left(opportunity: RenewalOpportunity, today: date | None = None) -> int:
    """Days until the renewal date (negative once it has passed)."""
    return (opportunity.renewal_date - (today or timezone.localdate())).days


@dataclass
class Row:
    """An opportunity as a list shows it."""

    opportunity: RenewalOpportunity
    days_left: int
    grade: str
    grade_label: str

    @property
    def overdue(self) -> bool:
        return self.opportunity.is_open and self.days_left < 0

    @property
    def days_overdue(self) -> int:
        return -self.days_left


def _grade_labels() -> dict[str, str]:
    field = apps.get_model("health", "HealthScore")._meta.get_field("grade")
    return {str(value): str(label) for value, label in field.choices or []}


def rows(found: Any, today: date | None = None) -> list[Row]:
    """The opportunities of `found` (from `opportunities()`) with days left and health grade label."""
    today = today or timezone.localdate()
    labels = _grade_labels()
    return [
        Row(
            opportunity=o,
            days_left=days_left(o, today),
            grade=getattr(o, "health_grade", None) or "",
            grade_label=labels.get(getattr(o, "health_grade", None) or "", ""),
        )
        for o in found
    ]
