"""Daily rollups of raw events, kept current as events arrive and rebuildable from scratch.

Ingestion never touches the rollups: in the batch's own transaction it notes what the batch adds
(`mark_pending`: per account and day, how many events of each event and person), and
`refresh_pending`, which every worker runs twice a second, adds those notes to the rollups. Each
note is taken by exactly one refresh (DELETE … RETURNING) and written in the batch that stored its
events (the message ids are claimed in that same transaction), so nothing is counted twice or left
out. Distinct people stay exact: the people a recent day has counted are kept (RollupPerson), and a
person counts only when their row is new. A day changed otherwise (a group call giving the account a
person's earlier events, an alias merging two ids), or one whose people are not kept (older days, a
rebuild), is recomputed whole from its raw events, in SQL. Adding costs the new events only, however
busy the day already is; recomputing a busy day on every refresh made a large account's rollups cost
more with each event.

Pages and the API never write: their selectors read a pending day from its raw events.
"""

from __future__ import annotations

import time as _time
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

import orjson
from django.db import OperationalError, connection, transaction
from django.db.models import Case, CharField, Count, F, Min, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce, Concat, NullIf
from django.utils import timezone

from touchpoint.accounts.models import Account
from touchpoint.bulk import copy_in
from touchpoint.usage.models import (
    DailyAccountRollup,
    DailyEventRollup,
    EventType,
    PendingRollup,
    RawEvent,
    RollupPerson,
)

USAGE_TYPES = (EventType.TRACK, EventType.PAGE, EventType.SCREEN)
# Days whose people are kept so that new events can be added to them: late events for older days
# recompute their day whole, which is rare and bounded by the day's events.
PEOPLE_KEPT_DAYS = 7

# (account id, day, event, person): what one pending row adds to
AddKey = tuple[int, date, str, str]


def person_of_event():
    # Who did it: the userId, or the anonymousId of a visitor not yet identified.
    return Coalesce(NullIf(F("user_id"), Value("")), F("anonymous_id"))


def person_of(user_id: str, anonymous_id: str) -> str:
    """person_of_event() for one event, in Python."""
    return user_id or anonymous_id


def event_name(kind: str, event: str) -> str:
    """event_key() for one event, in Python: a track call by its name, a page view as "page: Pricing"."""
    if kind == EventType.TRACK:
        return event
    return f"{kind}: {event}" if event else kind


def day_of(moment: datetime) -> date:
    return timezone.localtime(moment).date()


def mark_pending(keys: Iterable[tuple[int, date]] = (), *, added: Mapping[AddKey, int] | None = None) -> None:
    """Note what changed; call in the transaction that changed it.

    `added` counts a batch's new usage events by (account id, day, event, person); `keys` are
    (account id, day) pairs to recompute whole. Ingestion stays fast because it never touches the
    rollups: refresh_pending() catches up twice a second in the worker (pages read a pending day
    from its raw events meanwhile). The events noted are the backlog the tracking API watches.
    """
    # One row per (account, day): what the batch adds to it, as JSON. Fewer rows to write in the
    # batch's transaction (on SQLite, inside the one writer's lock) and to delete in the refresh.
    by_day: dict[tuple[int, date], list[tuple[str, str, int]]] = {}
    for (account_id, day, event, person), count in sorted((added or {}).items()):
        by_day.setdefault((account_id, day), []).append((event, person, count))
    rows = [(account_id, day, 0, "") for account_id, day in sorted(set(keys))]
    rows += [
        (account_id, day, sum(n for _e, _p, n in adds), orjson.dumps(adds).decode())
        for (account_id, day), adds in by_day.items()
    ]
    if not rows:
        return
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    columns = ("account_id", "day", "events", "adds", "event", "person", "created_at")
    if connection.vendor == "postgresql":  # COPY: psycopg's executemany is a round trip a row
        copy_in(
            connection,
            PendingRollup._meta,
            columns,
            [(*row, "", "", now) for row in rows],
            len(rows),
            number=False,
        )
        return
    table = connection.ops.quote_name(PendingRollup._meta.db_table)
    adapt = connection.ops.adapt_datefield_value
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES (%s, %s, %s, %s, '', '', %s)",
            [(account_id, adapt(day), n, adds, now) for account_id, day, n, adds in rows],
        )


def backlog() -> tuple[int, datetime | None]:
    """(usage events waiting for a rollup refresh, when the oldest of them was stored): one read."""
    row = PendingRollup.objects.aggregate(events=Sum("events"), oldest=Min("created_at"))
    return int(row["events"] or 0), row["oldest"]


# PostgreSQL: serialization failure (a concurrent refresh changed a row after this one's snapshot),
# deadlock. The refresh is run again from the start, on a new snapshot.
_RETRYABLE = {"40001", "40P01"}
_ATTEMPTS = 5


def refresh_pending(*, account_ids: Iterable[int] | None = None) -> int:
    """Bring the rollups up to date with what is pending; returns how many (account, day) pairs changed.

    DELETE … RETURNING takes the pending rows this call sees (rows of batches still in flight are not
    visible yet and stay for the next call). On PostgreSQL the refresh runs in REPEATABLE READ, so
    the pending rows it takes and the raw events a whole recompute reads are of the same moment: an
    event is either in the recompute or still pending, never both. Two refreshers queue on their
    accounts' row locks; one that finds its rows changed under it starts again.
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
    own_transaction = not connection.in_atomic_block
    for attempt in range(1, _ATTEMPTS + 1):
        try:
            with transaction.atomic():
                if own_transaction and connection.vendor == "postgresql":
                    with connection.cursor() as cursor:
                        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"DELETE FROM {table}{where} RETURNING account_id, day, event, person, events, adds",
                        params,
                    )
                    rows = _pending_rows(cursor.fetchall())
                return _apply(rows)
        except OperationalError as error:
            sqlstate = getattr(error.__cause__, "sqlstate", "")
            if not own_transaction or attempt == _ATTEMPTS or sqlstate not in _RETRYABLE:
                raise
            _time.sleep(0.01 * attempt)
    raise AssertionError("unreachable")


def _pending_rows(found: Iterable[tuple]) -> list[tuple[int, date, str, str, int]]:
    """(account id, day, event, person, count) of each addition the pending rows hold; event "" for a
    day to recompute whole."""
    rows = []
    for account_id, day, event, person, n, adds in found:
        day = _as_date(day)
        if adds:
            rows += [
                (account_id, day, added_event, added_person, count)
                for added_event, added_person, count in orjson.loads(adds)
            ]
        else:
            rows.append((account_id, day, event, person, n))
    return rows


def _apply(rows: list[tuple[int, date, str, str, int]]) -> int:
    """Add the pending rows to the rollups, or recompute their days whole; returns the pairs changed."""
    whole = {(account_id, day) for account_id, day, event, _person, _n in rows if not event}
    added: Counter[AddKey] = Counter()
    for account_id, day, event, person, n in rows:
        if event and (account_id, day) not in whole:
            added[(account_id, day, event, person)] += n
    pairs = whole | {(account_id, day) for account_id, day, _e, _p in added}
    if not pairs:
        return 0
    # Lock the accounts in id order, so two refreshers of the same account take turns (never a cycle).
    list(
        Account.objects.select_for_update()
        .filter(pk__in=sorted({account_id for account_id, _day in pairs}))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    whole |= _people_not_kept(pairs - whole)
    if whole:
        _recompute(whole)
    _add(Counter({key: n for key, n in added.items() if (key[0], key[1]) not in whole}))
    return len(pairs)


def _as_date(value: date | str) -> date:
    """A day as the driver returns it (SQLite: ISO text)."""
    return value if isinstance(value, date) else date.fromisoformat(value)


def _people_not_kept(pairs: set[tuple[int, date]]) -> set[tuple[int, date]]:
    """The pairs whose rollup exists without its people: adding to it could count someone twice."""
    if not pairs:
        return set()
    found = DailyAccountRollup.objects.filter(
        account_id__in={account_id for account_id, _day in pairs},
        day__in={day for _account_id, day in pairs},
        people_kept=False,
    ).values_list("account_id", "day")
    return set(found) & pairs


_ROWS_PER_STATEMENT = 200  # 5 parameters a row: far below SQLite's 999


def _add(added: Mapping[AddKey, int]) -> None:
    """Add new events to the rollups: one statement per 200 rows for the people, then each table."""
    if not added:
        return
    events: Counter[tuple[int, date, str]] = Counter()
    day_events: Counter[tuple[int, date]] = Counter()
    people: set[AddKey] = set()
    for (account_id, day, event, person), n in added.items():
        events[(account_id, day, event)] += n
        day_events[(account_id, day)] += n
        people.add((account_id, day, event, person))
        people.add((account_id, day, "", person))
    users: Counter[tuple[int, date, str]] = Counter()
    for account_id, day, event in _insert_new_people(sorted(people)):
        users[(account_id, day, event)] += 1
    _upsert(
        DailyEventRollup,
        ("account_id", "day", "event", "events", "users"),
        ("account_id", "day", "event"),
        ("events", "users"),
        [(*key, n, users[key]) for key, n in sorted(events.items())],
    )
    _upsert(
        DailyAccountRollup,
        ("account_id", "day", "events", "active_users", "people_kept"),
        ("account_id", "day"),
        ("events", "active_users"),
        [(*key, n, users[(*key, "")], True) for key, n in sorted(day_events.items())],
    )


def _insert_new_people(people: list[AddKey]) -> list[tuple[int, date, str]]:
    """Insert the people not yet counted; returns (account id, day, event) of each one inserted."""
    table = connection.ops.quote_name(RollupPerson._meta.db_table)
    adapt = connection.ops.adapt_datefield_value
    inserted: list[tuple[int, date, str]] = []
    with connection.cursor() as cursor:
        for start in range(0, len(people), _ROWS_PER_STATEMENT):
            chunk = people[start : start + _ROWS_PER_STATEMENT]
            params: list = []
            for account_id, day, event, person in chunk:
                params += [account_id, adapt(day), event, person]
            cursor.execute(
                f"INSERT INTO {table} (account_id, day, event, person) "
                f"VALUES {', '.join(['(%s, %s, %s, %s)'] * len(chunk))} "
                "ON CONFLICT (account_id, day, event, person) DO NOTHING RETURNING account_id, day, event",
                params,
            )
            inserted += [(account_id, _as_date(day), event) for account_id, day, event in cursor.fetchall()]
    return inserted


def _upsert(
    model, columns: tuple[str, ...], key: tuple[str, ...], summed: tuple[str, ...], rows: list
) -> None:
    """INSERT the rows, or add their `summed` columns to the row already there (same SQL on both databases)."""
    if not rows:
        return
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    adapt = connection.ops.adapt_datefield_value
    day_at = columns.index("day")
    placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
    additions = ", ".join(f"{quote(c)} = {table}.{quote(c)} + excluded.{quote(c)}" for c in summed)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), _ROWS_PER_STATEMENT):
            chunk = rows[start : start + _ROWS_PER_STATEMENT]
            params: list = []
            for row in chunk:
                params += [adapt(value) if i == day_at else value for i, value in enumerate(row)]
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(quote(c) for c in columns)}) "
                f"VALUES {', '.join([placeholders] * len(chunk))} "
                f"ON CONFLICT ({', '.join(quote(c) for c in key)}) DO UPDATE SET {additions}",
                params,
            )


def _recompute(keys: set[tuple[int, date]]) -> None:
    """Recompute the rollup rows and people of these (account id, day) pairs from the raw events, in SQL.

    The caller holds the accounts' locks.
    """
    by_day: dict[date, list[int]] = {}
    for account_id, day in keys:
        by_day.setdefault(day, []).append(account_id)
    for day, ids in sorted(by_day.items()):
        DailyEventRollup.objects.filter(day=day, account_id__in=ids).delete()
        DailyAccountRollup.objects.filter(day=day, account_id__in=ids).delete()
        RollupPerson.objects.filter(day=day, account_id__in=ids).delete()
        _insert_from_raw(RawEvent.objects.filter(day=day, account_id__in=ids), people=True)


def rebuild() -> tuple[int, int]:
    """Recompute the rollups from the raw events, in SQL. Returns (event rows, account-day rows).

    Days before the oldest raw event keep their rollups: their raw events were dropped for retention
    (`store.drop_partitions_before`), and the rollups are all that is left of them. No people are
    kept: a day that gets new events is recomputed whole once, and added to from then on.
    """
    with transaction.atomic():
        PendingRollup.objects.all().delete()
        RollupPerson.objects.all().delete()
        DailyAccountRollup.objects.filter(people_kept=True).update(people_kept=False)
        raw = RawEvent.objects.filter(account__isnull=False)
        oldest = raw.order_by().aggregate(day=Min("day"))["day"]
        if oldest is not None:
            DailyEventRollup.objects.filter(day__gte=oldest).delete()
            DailyAccountRollup.objects.filter(day__gte=oldest).delete()
            _insert_from_raw(raw, people=False)
        return DailyEventRollup.objects.count(), DailyAccountRollup.objects.count()


def forget_people_before(day: date) -> int:
    """Drop the kept people of days before `day` (their rollups stay, marked as not keeping people)."""
    with transaction.atomic():
        DailyAccountRollup.objects.filter(day__lt=day, people_kept=True).update(people_kept=False)
        deleted, _by_model = RollupPerson.objects.filter(day__lt=day).delete()
    return deleted


def event_key():
    # Track calls by their name; page and screen views as "page: Pricing" (or just "page").
    return Case(
        When(type=EventType.TRACK, then=F("event")),
        When(event="", then=F("type")),
        default=Concat(F("type"), Value(": "), F("event"), output_field=CharField()),
        output_field=CharField(),
    )


def _insert_from_raw(raw: QuerySet[RawEvent], *, people: bool) -> None:
    """INSERT … SELECT … GROUP BY: the database aggregates, no row passes through Python.

    With `people`, the distinct people of each event and of each day go into RollupPerson too, so
    that later events can be added to these rows.
    """
    usage = raw.filter(type__in=USAGE_TYPES).order_by()
    per_event = (
        usage.values("account_id", "day")
        .annotate(key=event_key())
        .values("account_id", "day", "key")
        .annotate(n=Count("id"), people=Count(person_of_event(), distinct=True))
    )
    per_day = usage.values("account_id", "day").annotate(
        n=Count("id"), people=Count(person_of_event(), distinct=True), kept=Value(people)
    )
    statements: list[tuple[Any, tuple[str, ...], Any]] = [
        (DailyEventRollup, ("account_id", "day", "event", "events", "users"), per_event),
        (DailyAccountRollup, ("account_id", "day", "events", "active_users", "people_kept"), per_day),
    ]
    if people:
        statements += [
            (
                RollupPerson,
                ("account_id", "day", "event", "person"),
                usage.annotate(key=event_key(), who=person_of_event())
                .values("account_id", "day", "key", "who")
                .distinct(),
            ),
            (
                RollupPerson,
                ("account_id", "day", "event", "person"),
                usage.annotate(key=Value("", output_field=CharField()), who=person_of_event())
                .values("account_id", "day", "key", "who")
                .distinct(),
            ),
        ]
    for model, columns, query in statements:
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
