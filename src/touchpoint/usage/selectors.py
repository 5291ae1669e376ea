"""Reads of usage for pages and the API: from the daily rollups, and never a write.

The worker brings rollups up to date every few seconds (rollups.refresh_pending). So that a page
still shows events ingested a moment ago, the per-account reads take the account's days still
pending a refresh from the raw events of those days instead of the stored rollup rows: read-only,
and only for the few days that wait (usually none).
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta

from django.db import connection
from django.db.models import Count, Exists, F, IntegerField, Max, OuterRef, Q, Sum, Value
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone

from touchpoint.accounts.models import Account, Contact
from touchpoint.usage.models import (
    DailyAccountRollup,
    DailyEventRollup,
    KeyFeature,
    PendingRollup,
    ProductUser,
    RawEvent,
    Source,
)
from touchpoint.usage.rollups import USAGE_TYPES, event_key, person_of_event


def active_source(write_key: str) -> Source | None:
    """The active source with this write key: plain SQL, as the tracking API asks it for every batch
    (the other columns load if read)."""
    table = connection.ops.quote_name(Source._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, name FROM {table} WHERE write_key = %s AND is_active", [write_key])
        row = cursor.fetchone()
    if row is None:
        return None
    return Source.from_db(connection.alias, ["id", "name", "write_key", "is_active"], [*row, write_key, True])


def pending_days(account: Account) -> set[date]:
    """The account's days whose raw events changed since their rollups were last computed."""
    return set(PendingRollup.objects.filter(account=account).values_list("day", flat=True).distinct())


def _raw_usage(account: Account, days: set[date]):
    return RawEvent.objects.filter(account=account, type__in=USAGE_TYPES, day__in=sorted(days)).order_by()


def usage_by_day(account: Account, *, days: int, today: date | None = None) -> list[dict]:
    """The last `days` days up to today, each with its events and active users (zero when quiet)."""
    today = today or timezone.localdate()
    first = today - timedelta(days=days - 1)
    pending = {day for day in pending_days(account) if first <= day <= today}
    rows = {
        row.day: (row.events, row.active_users)
        for row in DailyAccountRollup.objects.filter(account=account, day__gte=first, day__lte=today)
        if row.day not in pending
    }
    if pending:
        for row in (
            _raw_usage(account, pending)
            .values("day")
            .annotate(n=Count("id"), people=Count(person_of_event(), distinct=True))
        ):
            rows[row["day"]] = (row["n"], row["people"])
    return [
        {
            "date": day,
            "events": rows[day][0] if day in rows else 0,
            "active_users": rows[day][1] if day in rows else 0,
        }
        for day in (first + timedelta(days=offset) for offset in range(days))
    ]


def top_events(account: Account, *, days: int, limit: int = 10, today: date | None = None) -> list[dict]:
    """The account's most used events over the window."""
    today = today or timezone.localdate()
    since = today - timedelta(days=days)
    pending = {day for day in pending_days(account) if since < day <= today}
    stored = DailyEventRollup.objects.filter(account=account, day__gt=since, day__lte=today)
    if not pending:
        return list(
            stored.values("event").annotate(events=Sum("events")).order_by("-events", "event")[:limit]
        )
    totals: Counter[str] = Counter()
    for row in stored.exclude(day__in=sorted(pending)).values("event").annotate(events=Sum("events")):
        totals[row["event"]] += row["events"]
    for row in _raw_usage(account, pending).annotate(key=event_key()).values("key").annotate(n=Count("id")):
        totals[row["key"]] += row["n"]
    ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return [{"event": event, "events": events} for event, events in ranked]


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
    since = today - timedelta(days=days)
    key_events = list(KeyFeature.objects.values_list("event", flat=True))
    if not key_events:
        return 0, 0
    pending = {day for day in pending_days(account) if since < day <= today}
    used = set(
        DailyEventRollup.objects.filter(account=account, event__in=key_events, day__gt=since, day__lte=today)
        .exclude(day__in=sorted(pending))
        .values_list("event", flat=True)
        .distinct()
    )
    if pending:
        used |= set(
            _raw_usage(account, pending)
            .annotate(key=event_key())
            .filter(key__in=key_events)
            .values_list("key", flat=True)
            .distinct()
        )
    return len(used), len(key_events)


def event_catalog(
    *, search: str = "", days: int = 30, today: date | None = None, limit: int = 500
) -> list[dict]:
    """Every event name seen, busiest first: events and accounts in the window, last day seen, key or not."""
    today = today or timezone.localdate()
    since = today - timedelta(days=days)
    recent = Q(day__gt=since, day__lte=today)
    # (account, day) pairs still waiting for the worker's refresh are read from their raw events, as the
    # account pages do, so an event sent a moment ago is already in the catalogue.
    waiting = PendingRollup.objects.filter(account_id=OuterRef("account_id"), day=OuterRef("day"))
    named = DailyEventRollup.objects.filter(~Exists(waiting))
    raw = RawEvent.objects.filter(Exists(waiting), type__in=USAGE_TYPES).annotate(name=event_key())
    if search.strip():
        named = named.filter(event__icontains=search.strip())
        raw = raw.filter(name__icontains=search.strip())
    merged: dict[str, dict] = {}
    for row in named.values("event").annotate(
        events=Coalesce(Sum("events", filter=recent), 0, output_field=IntegerField()),
        last_day=Max("day"),
    ):
        merged[row["event"]] = {"event": row["event"], "events": row["events"], "last_day": row["last_day"]}
    waiting_accounts: dict[str, set[int]] = {}
    for row in raw.values("name", "account_id").annotate(
        events=Count("id", filter=recent), last_day=Max("day")
    ):
        entry = merged.setdefault(
            row["name"], {"event": row["name"], "events": 0, "last_day": row["last_day"]}
        )
        entry["events"] += row["events"]
        entry["last_day"] = max(entry["last_day"], row["last_day"])
        if row["events"]:
            waiting_accounts.setdefault(row["name"], set()).add(row["account_id"])
    # Accounts per event: distinct across both sources (an account may be in each on different days).
    counted = named.filter(recent).values("event").annotate(n=Count("account", distinct=True))
    for row in counted.exclude(event__in=list(waiting_accounts)):
        merged[row["event"]]["accounts"] = row["n"]
    for pair in (
        named.filter(recent, event__in=list(waiting_accounts)).values("event", "account_id").distinct()
    ):
        waiting_accounts[pair["event"]].add(pair["account_id"])
    for name, accounts in waiting_accounts.items():
        merged[name]["accounts"] = len(accounts)
    rows = sorted(merged.values(), key=lambda row: (-row["events"], row["event"]))[:limit]
    features = {feature.event: feature for feature in KeyFeature.objects.all()}
    catalog = []
    for row in rows:
        row.setdefault("accounts", 0)
        feature = features.get(row["event"])
        catalog.append({**row, "is_key": feature is not None, "label": feature.label if feature else ""})
    return catalog


def active_people_trend(account: Account, *, days: int = 90, today: date | None = None) -> list[dict]:
    """Per day of the window: people active that day (DAU), in the 7 days to it (WAU) and the 30 (MAU).

    Distinct people do not add up across days, so this reads the account's distinct (day, person)
    pairs for the window plus the 29 days before it in one query and slides the windows in memory.
    """
    today = today or timezone.localdate()
    first = today - timedelta(days=days - 1)
    person = Coalesce(NullIf(F("user_id"), Value("")), F("anonymous_id"))
    pairs = (
        RawEvent.objects.filter(
            account=account, type__in=USAGE_TYPES, day__gte=first - timedelta(days=29), day__lte=today
        )
        .annotate(person=person)
        .values_list("day", "person")
        .distinct()
    )
    people_by_day: dict[date, set[str]] = {}
    for day, who in pairs:
        people_by_day.setdefault(day, set()).add(who)
    # Slide both windows a day at a time: add the day entering, drop the day leaving.
    week: Counter[str] = Counter()
    month: Counter[str] = Counter()
    for back in range(29, 0, -1):
        earlier = first - timedelta(days=back)
        month.update(people_by_day.get(earlier, ()))
        if back < 7:
            week.update(people_by_day.get(earlier, ()))
    trend = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        arriving = people_by_day.get(day, ())
        week.update(arriving)
        month.update(arriving)
        trend.append({"date": day, "dau": len(arriving), "wau": len(week), "mau": len(month)})
        for window, length in ((week, 7), (month, 30)):
            window.subtract(people_by_day.get(day - timedelta(days=length - 1), ()))
            for who in [who for who, count in window.items() if count <= 0]:
                del window[who]
    return trend


def stickiness(trend: list[dict]) -> float | None:
    """Average daily actives over the last 30 days of the trend, over its latest monthly actives."""
    if not trend or not trend[-1]["mau"]:
        return None
    last_month = trend[-30:]
    return sum(day["dau"] for day in last_month) / len(last_month) / trend[-1]["mau"]


def event_count(
    *, event: str, since: datetime, until: datetime, account_id: int, contact_id: int | None = None
) -> int:
    """How many times the product reported that event name for the account (or one person at it)
    in (since, until]: from the raw events, so an event of a moment ago counts."""
    events = RawEvent.objects.filter(
        account_id=account_id,
        type__in=USAGE_TYPES,
        event=event,
        # The day bounds let PostgreSQL skip the months' partitions outside the window.
        day__gte=timezone.localdate(since) - timedelta(days=1),
        day__lte=timezone.localdate(until) + timedelta(days=1),
        timestamp__gt=since,
        timestamp__lte=until,
    )
    if contact_id is not None:
        # The person's events: matched to them at ingestion, or sent under their product user id
        # (an event that arrived before the person was linked to the contact keeps contact empty).
        user_ids = set(ProductUser.objects.filter(contact_id=contact_id).values_list("user_id", flat=True))
        user_ids |= {
            external_id
            for external_id in Contact.objects.filter(pk=contact_id).values_list("external_id", flat=True)
            if external_id
        }
        events = events.filter(Q(contact_id=contact_id) | Q(user_id__in=sorted(user_ids - {""})))
    return events.count()


def product_user_ids(contact_ids: list[int]) -> dict[int, str]:
    """The product's user id (Segment userId) of each of these contacts that the product knows."""
    return dict(ProductUser.objects.filter(contact_id__in=contact_ids).values_list("contact_id", "user_id"))
