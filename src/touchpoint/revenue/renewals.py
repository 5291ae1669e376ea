"""Renewals coming due, with what puts each at risk: the CSM's list and calendar.

Risk is a rule anyone can check, not a model (docs/metrics.md, "Renewal risk"). Each sign adds to it:
- the subscription is past due (a payment failed and was not recovered);
- the account contracted in the last 90 days;
- the account's product use fell: fewer than 70 % of the events of the 30 days before, over the last 30;
- the account's latest health grade is red.
High risk: two signs or more, or red health; medium: one sign; low: none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.apps import apps
from django.db.models import Exists, OuterRef, Q, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from touchpoint.revenue.models import (
    LIVE_STATUSES,
    MovementKind,
    MrrMovement,
    Subscription,
    SubscriptionStatus,
)
from touchpoint.revenue.selectors import RevenueFilter
from touchpoint.revenue.services import to_reporting

WINDOWS = (30, 60, 90, 120)
CONTRACTION_LOOKBACK_DAYS = 90
USAGE_DROP = Decimal("0.7")
SIGNS = {
    "past_due": _("Past due"),
    "contracted": _("Contracted in the last 90 days"),
    "usage_down": _("Product use down over 30 days"),
    "health_red": _("Health is red"),
}


@dataclass
class Renewal:
    subscription: Subscription
    arr: Decimal  # in the reporting currency
    signs: list[str] = field(default_factory=list)

    @property
    def risk(self) -> str:
        if "health_red" in self.signs or len(self.signs) >= 2:
            return "high"
        return "medium" if self.signs else "low"

    @property
    def sign_labels(self) -> list[str]:
        return [str(SIGNS[sign]) for sign in self.signs]


def due(filters: RevenueFilter, *, start: date, end: date, today: date | None = None) -> list[Renewal]:
    """Live subscriptions renewing between start and end (inclusive), soonest first, with their risk signs."""
    today = today or timezone.localdate()
    health_score = apps.get_model("health", "HealthScore")
    latest_grade = (
        health_score.objects.filter(account_id=OuterRef("account_id")).order_by("-day").values("grade")[:1]
    )
    contracted = MrrMovement.objects.effective().filter(
        account_id=OuterRef("account_id"),
        kind=MovementKind.CONTRACTION,
        occurred_on__gt=today - timedelta(days=CONTRACTION_LOOKBACK_DAYS),
    )
    subscriptions = list(
        filters.apply(
            Subscription.objects.filter(
                status__in=LIVE_STATUSES, renewal_date__gte=start, renewal_date__lte=end
            )
        )
        .select_related("account", "account__owner", "account__segment")
        .annotate(health_grade=Subquery(latest_grade), contracted=Exists(contracted))
        .order_by("renewal_date", "account__name", "id")
    )
    usage = _usage_change(sorted({s.account_id for s in subscriptions}), today)
    renewals = []
    for subscription in subscriptions:
        signs = []
        if subscription.status == SubscriptionStatus.PAST_DUE:
            signs.append("past_due")
        if subscription.contracted:
            signs.append("contracted")
        recent, before = usage.get(subscription.account_id, (0, 0))
        if before and recent < before * USAGE_DROP:
            signs.append("usage_down")
        if subscription.health_grade == "red":
            signs.append("health_red")
        renewals.append(
            Renewal(subscription, to_reporting(subscription.mrr, subscription.currency) * 12, signs)
        )
    return renewals


def _usage_change(account_ids: list[int], today: date) -> dict[int, tuple[int, int]]:
    """Per account: events in the last 30 days and in the 30 before (one grouped query per 500 accounts)."""
    rollup = apps.get_model("usage", "DailyAccountRollup")
    found: dict[int, tuple[int, int]] = {}
    recent_from, before_from = today - timedelta(days=30), today - timedelta(days=60)
    for offset in range(0, len(account_ids), 500):
        rows = (
            rollup.objects.filter(
                account_id__in=account_ids[offset : offset + 500], day__gte=before_from, day__lt=today
            )
            .values("account_id")
            .annotate(
                recent=Sum("events", filter=Q(day__gte=recent_from)),
                before=Sum("events", filter=Q(day__lt=recent_from)),
            )
        )
        found.update({row["account_id"]: (row["recent"] or 0, row["before"] or 0) for row in rows})
    return found


def month_grid(month: date) -> list[list[date | None]]:
    """The weeks of a month, Monday first, None outside it."""
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    weeks: list[list[date | None]] = []
    week: list[date | None] = [None] * first.weekday()
    day = first
    while day < following:
        week.append(day)
        if len(week) == 7:
            weeks.append(week)
            week = []
        day += timedelta(days=1)
    if week:
        weeks.append(week + [None] * (7 - len(week)))
    return weeks
