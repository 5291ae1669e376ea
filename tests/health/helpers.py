"""Constructed history for health tests: rollups, touches and subscriptions on chosen days."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from tests.factories import AccountFactory
from touchpoint.accounts.models import TimelineEntry
from touchpoint.revenue.models import MrrMovement, Subscription
from touchpoint.usage.models import DailyAccountRollup, DailyEventRollup

TODAY = date(2026, 6, 30)


def old_account(**kwargs):
    kwargs.setdefault("owner", None)  # no user (and no password hashing) per account: tests stay fast
    kwargs.setdefault("segment", None)
    return AccountFactory(created_at=timezone.make_aware(datetime(2025, 1, 1)), **kwargs)


def usage(
    account, *, first: date, last: date, events: int, users: int = 1, features: tuple[str, ...] = ()
) -> None:
    rows, event_rows = [], []
    day = first
    while day <= last:
        rows.append(DailyAccountRollup(account=account, day=day, events=events, active_users=users))
        event_rows.append(
            DailyEventRollup(account=account, day=day, event="Page viewed", events=events, users=users)
        )
        for feature in features:
            event_rows.append(DailyEventRollup(account=account, day=day, event=feature, events=1, users=1))
        day += timedelta(days=1)
    DailyAccountRollup.objects.bulk_create(rows)
    DailyEventRollup.objects.bulk_create(event_rows)


def touch(account, *, on: date, kind: str = "meeting") -> TimelineEntry:
    return TimelineEntry.objects.create(
        account=account,
        kind=kind,
        title=kind,
        occurred_at=timezone.make_aware(datetime.combine(on, time(12))),
    )


def subscription(
    account, *, started: date, seats: int = 10, renewal: date | None = None, mrr: Decimal = Decimal("1000")
) -> Subscription:
    sub = Subscription.objects.create(
        account=account, product="Cloud", quantity=seats, mrr=mrr, started_on=started, renewal_date=renewal
    )
    MrrMovement.objects.create(
        subscription=sub,
        account=account,
        kind="new",
        occurred_on=started,
        mrr_before=0,
        mrr_after=mrr,
        delta=mrr,
        currency="USD",
    )
    return sub


def churn(sub: Subscription, *, on: date) -> MrrMovement:
    return MrrMovement.objects.create(
        subscription=sub,
        account=sub.account,
        kind="churn",
        occurred_on=on,
        mrr_before=sub.mrr,
        mrr_after=0,
        delta=-sub.mrr,
        currency="USD",
    )


def contract(sub: Subscription, *, on: date) -> MrrMovement:
    half = sub.mrr / 2
    return MrrMovement.objects.create(
        subscription=sub,
        account=sub.account,
        kind="contraction",
        occurred_on=on,
        mrr_before=sub.mrr,
        mrr_after=half,
        delta=-half,
        currency="USD",
    )
