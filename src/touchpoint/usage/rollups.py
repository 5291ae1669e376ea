"""Daily rollups of raw events, kept current as events arrive and rebuildable from scratch.

A rollup row is always recomputed whole from the raw events of its (account, day): that makes
the update idempotent (a replay or a retry computes the same numbers) and keeps distinct-user
counts exact, which adding increments could not. Ingestion marks the (account, day) pairs it
touched (`mark_pending`); `refresh_pending` recomputes them set-based, a few seconds later in the
worker. Pages and the API never write: their selectors read a pending day from its raw events.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta

from django.db import connection, transaction
from django.db.models import Case, CharField, Count, F, Min, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce, Concat, NullIf
from django.utils import timezone

from touchpoint.accounts.models import Account
from touchpoint.usage.models import DailyAccountRollup, DailyEventRollup, EventType, PendingRollup, RawEvent

USAGE_TYPES = (EventType.TRACK, EventType.PAGE, EventType.SCREEN)


def person_of_event():
    # Who did it: the userId, or the anonymousId of a visitor not yet identified.
    return Coalesce(NullIf(F("user_id"), Value("")), F("anonymous_id"))


def day_of(moment: datetime) -> date:
    return timezone.localtime(moment).date()


def mark_pending(
    keys: Iterable[tuple[int, date]], *, events: Mapping[tuple[int, date], int] | None = None
) -> None:
    """Note (account id, day) pairs whose raw events changed; call in the transaction that changed them.

    `events` counts the new usage events of each pair (the backlog the tracking API watches; a pair
    touched only by a group call's attach counts 0). Ingestion stays fast because it never
    recomputes: rollups catch up in refresh_pending(), which the worker runs twice a second (pages
    read a pending day from its raw events meanwhile).
    """
    counts = events or {}
    rows = sorted(set(keys) | set(counts))
    if not rows:
        return
    table = connection.ops.quote_name(PendingRollup._meta.db_table)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} (account_id, day, events, created_at) VALUES (%s, %s, %s, %s)",
            [
                (account_id, connection.ops.adapt_datefield_value(day), counts.get((account_id, day), 0), now)
                for account_id, day in rows
            ],
        )


def backlog() -> tuple[int, datetime | None]:
    """(usage events waiting for a rollup refresh, when the oldest of them was stored): one read."""
    row = PendingRollup.objects.aggregate(events=Sum("events"), oldest=Min("created_at"))
    return int(row["events"] or 0), row["oldest"]


def refresh_pending(*, account_ids: Iterable[int] | None = None) -> int:
    """Bring the rollups of pending (account, day) pairs up to date; returns how many pairs were redone.

    DELETE … RETURNING takes the pending rows this call saw (rows of batches still in flight are not
    visible yet and stay for the next call); the recompute then reads every event committed so far.
    Two refreshers recomputing the same account queue on its row lock, the second seeing the first's
    work (READ COMMITTED), so rows are never inserted twice.
    """
    table = connection.ops.quote_name(PendingRollup._meta.db_table)
    where, params = "", []
    if account_ids is not None:
        ids = sorted(set(account_ids))
        if not ids:
            return 0
        where, params = f" WHERE account_id IN ({', '.join(['%s'] * len(ids))})", ids
    # A read first: nothing pending (most calls of the poller) takes no write lock, which on SQLite
    # would make the tracking API's writers wait.
    pending = (
        PendingRollup.objects.all()
        if account_ids is None
        else PendingRollup.objects.filter(account_id__in=ids)
    )
    if not pending.exists():
        return 0
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table}{where} RETURNING account_id, day", params)
            keys = {
                (account_id, day if isinstance(day, date) else date.fromisoformat(day))
                for account_id, day in cursor.fetchall()
            }
        if keys:
            _recompute(keys)
    return len(keys)


def _recompute(keys: set[tuple[int, date]]) -> None:
    """Recompute the rollup rows of these (account id, day) pairs from the raw events, in SQL."""
    account_ids = sorted({account_id for account_id, _day in keys})
    # Lock the accounts in id order, so two refreshers of the same account take turns (never a cycle).
    list(
        Account.objects.select_for_update()
        .filter(pk__in=account_ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    by_day: dict[date, list[int]] = {}
    for account_id, day in keys:
        by_day.setdefault(day, []).append(account_id)
    for day, ids in sorted(by_day.items()):
        DailyEventRollup.objects.filter(day=day, account_id__in=ids).delete()
        DailyAccountRollup.objects.filter(day=day, account_id__in=ids).delete()
        _insert_from_raw(RawEvent.objects.filter(day=day, account_id__in=ids))


def rebuild() -> tuple[int, int]:
    """Recompute the rollups from the raw events, in SQL. Returns (event rows, account-day rows).

    Days before the oldest raw event keep their rollups: their raw events were dropped for retention
    (`store.drop_partitions_before`), and the rollups are all that is left of them.
    """
    with transaction.atomic():
        PendingRollup.objects.all().delete()
        raw = RawEvent.objects.filter(account__isnull=False)
        oldest = raw.order_by().aggregate(day=Min("day"))["day"]
        if oldest is not None:
            DailyEventRollup.objects.filter(day__gte=oldest).delete()
            DailyAccountRollup.objects.filter(day__gte=oldest).delete()
            _insert_from_raw(raw)
        return DailyEventRollup.objects.count(), DailyAccountRollup.objects.count()


def event_key():
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
    per_event = (
        usage.values("account_id", "day")
        .annotate(key=event_key())
        .values("account_id", "day", "key")
        .annotate(n=Count("id"), people=Count(person_of_event(), distinct=True))
    )
    per_day = usage.values("account_id", "day").annotate(
        n=Count("id"), people=Count(person_of_event(), distinct=True)
    )
    for model, columns, query in (
        (DailyEventRollup, ("account_id", "day", "event", "events", "users"), per_event),
        (DailyAccountRollup, ("account_id", "day", "events", "active_users"), per_day),
    ):
        select_sql, params = query.query.sql_with_params()
        names = ", ".join(connection.ops.quote_name(c) for c in columns)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({names}) {select_sql}",
                params,
            )


def active_users(account_id: int, *, days: int, until: datetime | None = None) -> int:
    """Distinct people active on the account in the last `days` days (DAU 1, WAU 7, MAU 30)."""
    until = until or timezone.now()
    since = until - timedelta(days=days)
    # The day bounds add nothing to the answer; they let PostgreSQL skip months of partitions.
    return RawEvent.objects.filter(
        account_id=account_id,
        type__in=USAGE_TYPES,
        day__gte=day_of(since) - timedelta(days=1),
        day__lte=day_of(until) + timedelta(days=1),
        timestamp__gt=since,
        timestamp__lte=until,
    ).aggregate(n=Count(person_of_event(), distinct=True))["n"]
