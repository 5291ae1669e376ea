"""Daily rollups of raw events, kept current as events arrive and rebuildable from scratch.

A rollup row is always recomputed whole from the raw events of its (account, day): that makes
the update idempotent (a replay or a retry computes the same numbers) and keeps distinct-user
counts exact, which adding increments could not.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from django.db import connection, transaction
from django.db.models import Case, CharField, Count, F, QuerySet, Value, When
from django.db.models.functions import Coalesce, Concat, NullIf
from django.utils import timezone

from touchpoint.accounts.models import Account
from touchpoint.usage.models import DailyAccountRollup, DailyEventRollup, EventType, RawEvent

USAGE_TYPES = (EventType.TRACK, EventType.PAGE, EventType.SCREEN)


def _person():
    # Who did it: the userId, or the anonymousId of a visitor not yet identified.
    return Coalesce(NullIf(F("user_id"), Value("")), F("anonymous_id"))


def day_of(moment: datetime) -> date:
    return timezone.localtime(moment).date()


def refresh(keys: Iterable[tuple[int, date]]) -> None:
    """Recompute the rollup rows of these (account id, day) pairs from the raw events.

    Two batches for the same account may commit at once on PostgreSQL: each locks the account rows
    first (in id order, so two batches never wait on each other in a circle), and the second then
    recomputes after the first committed, seeing its events (READ COMMITTED).
    """
    keys = sorted(set(keys))
    list(Account.objects.select_for_update().filter(pk__in={account_id for account_id, _day in keys})
         .order_by("pk").values_list("pk", flat=True))
    for account_id, day in keys:
        with transaction.atomic():
            DailyEventRollup.objects.filter(account_id=account_id, day=day).delete()
            DailyAccountRollup.objects.filter(account_id=account_id, day=day).delete()
            _insert_from_raw(RawEvent.objects.filter(account_id=account_id, day=day))


def rebuild() -> tuple[int, int]:
    """Recompute every rollup from the raw events, in SQL. Returns (event rows, account-day rows)."""
    with transaction.atomic():
        DailyEventRollup.objects.all().delete()
        DailyAccountRollup.objects.all().delete()
        _insert_from_raw(RawEvent.objects.filter(account__isnull=False))
        return DailyEventRollup.objects.count(), DailyAccountRollup.objects.count()


def _key():
    # Track calls by their name; page and screen views as "page: Pricing" (or just "page").
    return Case(
        When(type=EventType.TRACK, then=F("event")),
        When(event="", then=F("type")),
        default=Concat(F("type"), Value(": "), F("event"), output_field=CharField()),
        output_field=CharField(),
    )


def _insert_from_raw(raw: QuerySet[RawEvent]) -> None:
    """INSERT … SELECT … GROUP BY: the database aggregates, no row passes through Python."""
    usage = raw.filter(type__in=USAGE_TYPES).order_by()
    per_event = (usage.values("account_id", "day").annotate(key=_key()).values("account_id", "day", "key")
                 .annotate(n=Count("id"), people=Count(_person(), distinct=True)))
    per_day = usage.values("account_id", "day").annotate(n=Count("id"), people=Count(_person(), distinct=True))
    for model, columns, query in (
        (DailyEventRollup, ("account_id", "day", "event", "events", "users"), per_event),
        (DailyAccountRollup, ("account_id", "day", "events", "active_users"), per_day),
    ):
        select_sql, params = query.query.sql_with_params()
        names = ", ".join(connection.ops.quote_name(c) for c in columns)
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({names}) {select_sql}",
                           params)


def active_users(account_id: int, *, days: int, until: datetime | None = None) -> int:
    """Distinct people active on the account in the last `days` days (DAU 1, WAU 7, MAU 30)."""
    until = until or timezone.now()
    return (RawEvent.objects.filter(account_id=account_id, type__in=USAGE_TYPES,
                                    timestamp__gt=until - timedelta(days=days), timestamp__lte=until)
            .aggregate(n=Count(_person(), distinct=True))["n"])

