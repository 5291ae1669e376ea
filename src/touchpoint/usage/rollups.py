"""Daily rollups of raw events, kept current as events arrive and rebuildable from scratch.

A rollup row is always recomputed whole from the raw events of its (account, day): that makes
the update idempotent (a replay or a retry computes the same numbers) and keeps distinct-user
counts exact, which adding increments could not.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Case, CharField, Count, F, Value, When
from django.db.models.functions import Coalesce, Concat, NullIf, TruncDate
from django.utils import timezone

from touchpoint.usage.models import DailyAccountRollup, DailyEventRollup, EventType, RawEvent

USAGE_TYPES = (EventType.TRACK, EventType.PAGE, EventType.SCREEN)


def _person():
    # Who did it: the userId, or the anonymousId of a visitor not yet identified.
    return Coalesce(NullIf(F("user_id"), Value("")), F("anonymous_id"))


def day_of(moment: datetime) -> date:
    return timezone.localtime(moment).date()


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, start + timedelta(days=1)


def refresh(keys: Iterable[tuple[int, date]]) -> None:
    """Recompute the rollup rows of these (account id, day) pairs from the raw events."""
    for account_id, day in sorted(set(keys)):
        start, end = _day_bounds(day)
        raw = RawEvent.objects.filter(account_id=account_id, timestamp__gte=start, timestamp__lt=end,
                                      type__in=USAGE_TYPES)
        with transaction.atomic():
            DailyEventRollup.objects.filter(account_id=account_id, day=day).delete()
            DailyAccountRollup.objects.filter(account_id=account_id, day=day).delete()
            per_event = (raw.annotate(key=_key()).values("key")
                         .annotate(n=Count("id"), people=Count(_person(), distinct=True)))
            DailyEventRollup.objects.bulk_create([
                DailyEventRollup(account_id=account_id, day=day, event=row["key"][:210], events=row["n"],
                                 users=row["people"]) for row in per_event
            ])
            totals = raw.aggregate(n=Count("id"), people=Count(_person(), distinct=True))
            if totals["n"]:
                DailyAccountRollup.objects.create(account_id=account_id, day=day, events=totals["n"],
                                                  active_users=totals["people"])


def _key():
    # Track calls by their name; page and screen views as "page: Pricing" (or just "page").
    return Case(
        When(type=EventType.TRACK, then=F("event")),
        When(event="", then=F("type")),
        default=Concat(F("type"), Value(": "), F("event"), output_field=CharField()),
        output_field=CharField(),
    )


def rebuild() -> tuple[int, int]:
    """Recompute every rollup from the raw events, set-based. Returns (event rows, account-day rows)."""
    with transaction.atomic():
        DailyEventRollup.objects.all().delete()
        DailyAccountRollup.objects.all().delete()
        raw = RawEvent.objects.filter(account__isnull=False, type__in=USAGE_TYPES).annotate(
            day=TruncDate("timestamp", tzinfo=timezone.get_current_timezone()))
        per_event = raw.annotate(key=_key()).values("account_id", "day", "key").annotate(
            n=Count("id"), people=Count(_person(), distinct=True)).order_by()
        event_rows = [DailyEventRollup(account_id=r["account_id"], day=r["day"], event=r["key"][:210],
                                       events=r["n"], users=r["people"]) for r in per_event.iterator()]
        DailyEventRollup.objects.bulk_create(event_rows, batch_size=2000)
        per_day = raw.values("account_id", "day").annotate(
            n=Count("id"), people=Count(_person(), distinct=True)).order_by()
        day_rows = [DailyAccountRollup(account_id=r["account_id"], day=r["day"], events=r["n"],
                                       active_users=r["people"]) for r in per_day.iterator()]
        DailyAccountRollup.objects.bulk_create(day_rows, batch_size=2000)
    return len(event_rows), len(day_rows)


def active_users(account_id: int, *, days: int, until: datetime | None = None) -> int:
    """Distinct people active on the account in the last `days` days (DAU 1, WAU 7, MAU 30)."""
    until = until or timezone.now()
    return (RawEvent.objects.filter(account_id=account_id, type__in=USAGE_TYPES,
                                    timestamp__gt=until - timedelta(days=days), timestamp__lte=until)
            .aggregate(n=Count(_person(), distinct=True))["n"])

