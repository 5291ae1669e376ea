"""Reads of usage for pages and the API: from the daily rollups, never from raw events per request."""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import Max, Sum
from django.utils import timezone

from touchpoint.accounts.models import Account
from touchpoint.usage.models import DailyAccountRollup, DailyEventRollup, KeyFeature, RawEvent
from touchpoint.usage.rollups import USAGE_TYPES


def usage_by_day(account: Account, *, days: int, today: date | None = None) -> list[dict]:
    """The last `days` days up to today, each with its events and active users (zero when quiet)."""
    today = today or timezone.localdate()
    first = today - timedelta(days=days - 1)
    rows = {
        row.day: row
        for row in DailyAccountRollup.objects.filter(account=account, day__gte=first, day__lte=today)
    }
    return [
        {"date": day, "events": rows[day].events if day in rows else 0,
         "active_users": rows[day].active_users if day in rows else 0}
        for day in (first + timedelta(days=offset) for offset in range(days))
    ]


def top_events(account: Account, *, days: int, limit: int = 10, today: date | None = None) -> list[dict]:
    """The account's most used events over the window."""
    today = today or timezone.localdate()
    return list(
        DailyEventRollup.objects.filter(account=account, day__gt=today - timedelta(days=days), day__lte=today)
        .values("event").annotate(events=Sum("events")).order_by("-events", "event")[:limit]
    )


def last_seen(account: Account):
    """When anyone at the account last used the product (None if never)."""
    events = RawEvent.objects.filter(account=account, type__in=USAGE_TYPES)
    # The newest day first (it walks the account+day index backwards), then the newest time in it.
    latest_day = events.order_by("-day").values_list("day", flat=True).first()
    if latest_day is None:
        return None
    return events.filter(day=latest_day).aggregate(at=Max("timestamp"))["at"]


def breadth_of_adoption(account: Account, *, days: int = 30, today: date | None = None) -> tuple[int, int]:
    """(key features used in the window, key features defined)."""
    today = today or timezone.localdate()
    key_events = list(KeyFeature.objects.values_list("event", flat=True))
    used = (DailyEventRollup.objects.filter(account=account, event__in=key_events,
                                            day__gt=today - timedelta(days=days), day__lte=today)
            .values("event").distinct().count()) if key_events else 0
    return used, len(key_events)
