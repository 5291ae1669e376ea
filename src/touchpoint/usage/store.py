"""The raw event store: the one module that knows how raw events are kept.

Today: two tables in the main database (`ReceivedMessage` for idempotency, `RawEvent` for the
events). A columnar engine can take this module over later; nothing else reads or writes raw events.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import orjson
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from touchpoint.bulk import copy_in
from touchpoint.usage.models import RawEvent, ReceivedMessage, RollupPerson, Source
from touchpoint.usage.segment import Message

_CHUNK = 300  # rows per INSERT: 3 parameters each stays far below every database's limit


@dataclass(frozen=True)
class Resolved:
    """A message with the account and contact it belongs to (ids, either may be None)."""

    message: Message
    account_id: int | None
    contact_id: int | None


def claim_new(source: Source, message_ids: Sequence[str], *, received_at: datetime) -> set[str]:
    """Record the message ids; return those never seen before from this source.

    One INSERT … ON CONFLICT DO NOTHING RETURNING per chunk (SQLite 3.35+ and PostgreSQL): a replay
    and a concurrent duplicate both lose the race to the unique key, so an event is stored at most
    once whatever the interleaving. Call inside the transaction that stores the events.
    """
    table = connection.ops.quote_name(ReceivedMessage._meta.db_table)
    fresh: set[str] = set()
    unique_ids = list(dict.fromkeys(message_ids))
    if connection.vendor == "postgresql":  # one array parameter: a short statement, whatever the batch
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (source_id, message_id, received_at) "
                "SELECT %s, message_id, %s FROM unnest(%s::text[]) AS ids(message_id) "
                "ON CONFLICT (source_id, message_id) DO NOTHING RETURNING message_id",
                [source.pk, received_at, unique_ids],
            )
            return {row[0] for row in cursor.fetchall()}
    with connection.cursor() as cursor:
        for start in range(0, len(unique_ids), _CHUNK):
            chunk = unique_ids[start : start + _CHUNK]
            rows = ", ".join(["(%s, %s, %s)"] * len(chunk))
            params: list = []
            for message_id in chunk:
                params += [source.pk, message_id, received_at]
            cursor.execute(
                f"INSERT INTO {table} (source_id, message_id, received_at) VALUES {rows} "
                f"ON CONFLICT (source_id, message_id) DO NOTHING RETURNING message_id",
                params,
            )
            fresh.update(row[0] for row in cursor.fetchall())
    return fresh


# The raw table's columns in the order every bulk write (ingestion here, the demo company) sends them.
RAW_EVENT_COLUMNS = (
    "source_id",
    "message_id",
    "type",
    "event",
    "user_id",
    "anonymous_id",
    "group_id",
    "account_id",
    "contact_id",
    "timestamp",
    "day",
    "received_at",
    "properties",
    "context",
)


def prepare(source: Source, messages: Iterable[Message], *, received_at: datetime) -> dict[str, tuple]:
    """Each message's row, but for its account and contact: work done before the write transaction.

    On SQLite only one writer runs at a time, so everything that needs no lock (JSON, dates in the
    database's text form) is done here, keeping the locked part of ingestion short.
    """
    zone = timezone.get_current_timezone()
    sqlite = connection.vendor == "sqlite"
    db_zone = connection.timezone if sqlite else None
    received = str(received_at.astimezone(db_zone).replace(tzinfo=None)) if sqlite else received_at
    rows = {}
    moment: datetime | str  # naive UTC text on SQLite
    for message in messages:
        moment, day = message.timestamp, message.timestamp.astimezone(zone).date()
        if sqlite:  # as Django's SQLite backend stores them: naive UTC text
            moment, day = str(moment.astimezone(db_zone).replace(tzinfo=None)), day
        rows[message.message_id] = (
            source.pk,
            message.message_id,
            message.type,
            message.event,
            message.user_id,
            message.anonymous_id,
            message.group_id,
            None,
            None,
            moment,
            day,
            received,
            _json(message.properties or message.traits),
            _json(message.context),
        )
    return rows


def append(prepared: dict[str, tuple], events: Iterable[Resolved]) -> int:
    """Store resolved events (rows from `prepare`); returns how many were stored.

    The hot path of ingestion: rows go in as plain tuples (no model instances), by COPY on
    PostgreSQL and one prepared executemany on SQLite, the fastest way each database offers.
    """
    rows = []
    for e in events:
        row = prepared[e.message.message_id]
        rows.append((*row[:4], e.message.user_id, *row[5:7], e.account_id, e.contact_id, *row[9:]))
    if not rows:
        return 0
    if connection.vendor == "postgresql":
        ensure_partitions({row[10] for row in rows})
        copy_in(connection, RawEvent._meta, RAW_EVENT_COLUMNS, rows, len(rows), number=False)
    else:
        table = connection.ops.quote_name(RawEvent._meta.db_table)
        names = ", ".join(RAW_EVENT_COLUMNS)
        values = [(*row[:10], row[10].isoformat(), *row[11:]) for row in rows]
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(RAW_EVENT_COLUMNS))})", values
            )
    return len(rows)


def _json(value: dict) -> str:
    return orjson.dumps(value).decode()


# --- PostgreSQL: raw events are partitioned by month of `day` -------------------------------------

_KNOWN_MONTHS: set[date] = set()


def partition_name(month: date) -> str:
    return f"{RawEvent._meta.db_table}_{month:%Y%m}"


def ensure_partitions(days: Iterable[date]) -> None:
    """Create the monthly partitions these days fall in, if missing (PostgreSQL only).

    Checked against a per-process cache first, so the common case costs nothing; a new month costs
    a catalogue lookup and one CREATE TABLE … PARTITION OF (safe to race: IF NOT EXISTS, and a lost
    race is retried by the ingest loop). A month whose rows already sit in the DEFAULT partition
    (an old backfill) stays there: still correct, only not pruned.
    """
    if connection.vendor != "postgresql":
        return
    months = {day.replace(day=1) for day in days} - _KNOWN_MONTHS
    if not months:
        return
    parent = connection.ops.quote_name(RawEvent._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [f"{RawEvent._meta.db_table}_default"])
        if not cursor.fetchone()[0]:
            return  # not partitioned (a database migrated without 0004): nothing to create
        for month in sorted(months):
            following = (month + timedelta(days=32)).replace(day=1)
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [partition_name(month)])
            if cursor.fetchone()[0]:
                continue
            cursor.execute(
                f"SELECT 1 FROM {RawEvent._meta.db_table}_default WHERE day >= %s AND day < %s LIMIT 1",
                [month, following],
            )
            if cursor.fetchone():
                continue
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {connection.ops.quote_name(partition_name(month))} "
                f"PARTITION OF {parent} FOR VALUES FROM (%s) TO (%s)",
                [month, following],
            )
    # Remember them once they are committed; a rolled-back batch takes its new partitions with it.
    transaction.on_commit(lambda: _KNOWN_MONTHS.update(months))


def drop_partitions_before(month: date) -> list[str]:
    """Retention on PostgreSQL: drop whole months of raw events older than `month` (rollups stay)."""
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = %s::regclass ORDER BY c.relname",
            [RawEvent._meta.db_table],
        )
        names = [row[0] for row in cursor.fetchall()]
        dropped = [name for name in names if name[-6:].isdigit() and name < partition_name(month)]
        for name in dropped:
            cursor.execute(f"DROP TABLE {connection.ops.quote_name(name)}")
    _KNOWN_MONTHS.clear()
    return dropped


def attach_user_events(*, user_id: str, account_id: int, contact_id: int | None) -> set[date]:
    """Give a user's events that arrived before their group call to their account; returns their days."""
    waiting = RawEvent.objects.filter(user_id=user_id, account__isnull=True)
    days = set(waiting.values_list("day", flat=True))
    if days:
        waiting.update(account_id=account_id, contact_id=contact_id)
    return days


def rename_user(*, previous_id: str, user_id: str) -> set[tuple[int, date]]:
    """After an alias: events sent under the old or anonymous id now belong to the user.

    Returns the (account id, day) pairs of the renamed events that have an account.
    """
    renamed = RawEvent.objects.filter(user_id=previous_id)
    anonymous = RawEvent.objects.filter(user_id="", anonymous_id=previous_id)
    pairs: set[tuple[int, date]] = set()
    for events in (renamed, anonymous):
        pairs |= set(events.filter(account_id__isnull=False).values_list("account_id", "day").distinct())
        events.update(user_id=user_id)
    return pairs


def events_of_person(*, ids: Iterable[str], contact_ids: Iterable[int]) -> Any:
    """The raw events sent under any of these user or anonymous ids, or matched to these contacts."""
    ids, contact_ids = list(ids), list(contact_ids)
    return RawEvent.objects.filter(
        Q(user_id__in=ids) | Q(anonymous_id__in=ids) | Q(contact_id__in=contact_ids)
    )


def anonymise_person(*, renamed: dict[str, str], contact_ids: Iterable[int]) -> int:
    """A personal-data erasure: each user or anonymous id in `renamed` becomes its replacement in every
    event, and those events and the contacts' lose their properties and context (IP address, user agent,
    traits). The events stay, so the rollups recomputed from them keep their counts. Returns how many
    events changed."""
    changed = 0
    for original, replacement in renamed.items():
        changed += RawEvent.objects.filter(user_id=original).update(
            user_id=replacement, properties={}, context={}
        )
        changed += RawEvent.objects.filter(anonymous_id=original).update(
            anonymous_id=replacement, properties={}, context={}
        )
        RollupPerson.objects.filter(person=original).update(person=replacement)  # same counts, no name
    changed += (
        RawEvent.objects.filter(contact_id__in=list(contact_ids))
        .exclude(properties={}, context={})
        .update(properties={}, context={})
    )
    return changed


def recent_events(source: Source, *, limit: int = 50) -> list[RawEvent]:
    """The newest events from a source, for the live debugger."""
    return list(RawEvent.objects.filter(source=source).order_by("-received_at", "-id")[:limit])


def event_id_horizon() -> tuple[int, int, int]:
    """(the highest raw event id given out, the snapshot's xmin, its xmax) for followers of the store.

    On PostgreSQL an id is taken from the sequence before its transaction commits, so a follower
    reads up to an id only once every transaction running when it was the highest has ended (see
    journeys/triggers.py). On SQLite ids commit in order: the highest committed id, and 0, 0.
    """
    if connection.vendor != "postgresql":
        return RawEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0, 0, 0
    table = RawEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COALESCE(pg_sequence_last_value(pg_get_serial_sequence(%s, 'id')), 0), "
            "pg_snapshot_xmin(pg_current_snapshot())::text::bigint, "
            "pg_snapshot_xmax(pg_current_snapshot())::text::bigint",
            [table],
        )
        highest, xmin, xmax = cursor.fetchone()
    return int(highest), int(xmin), int(xmax)


def track_events_between(after_id: int, up_to_id: int, *, names: Iterable[str], limit: int) -> list[RawEvent]:
    """Track events with one of these names and after_id < id <= up_to_id, in id order (at most `limit`)."""
    return list(
        RawEvent.objects.filter(
            id__gt=after_id, id__lte=up_to_id, type="track", event__in=list(names)
        ).order_by("id")[: max(0, int(limit))]
    )


def track_events_in(
    names: Iterable[str], *, since: datetime, until: datetime, with_properties: bool = False
) -> Iterator[dict[str, Any]]:
    """Track events with one of these names and since <= timestamp <= until, in time order (then id).

    Each as a dict of id, account_id, contact_id, user_id, group_id, timestamp (and properties when
    asked): the account and contact as stored, which may be None for an event that arrived before
    its user or group was known. Read in chunks, for a window of many events (the journeys'
    simulation).
    """
    fields = ["id", "account_id", "contact_id", "user_id", "group_id", "timestamp"]
    if with_properties:
        fields.append("properties")
    return (
        RawEvent.objects.filter(
            type="track", event__in=sorted(set(names)), timestamp__gte=since, timestamp__lte=until
        )
        .order_by("timestamp", "id")
        .values(*fields)
        .iterator(chunk_size=5000)
    )


def event_times(
    names: Iterable[str], *, types: Iterable[str], after: datetime, until: datetime
) -> Iterator[tuple[str, int, int | None, datetime]]:
    """(name, account id, contact id, timestamp) of the events of these types and names with
    after < timestamp <= until that belong to an account, in no particular order.

    `day` is bounded too (a day either side of the window, for time zones), so PostgreSQL reads only
    the months' partitions the window touches.
    """
    return (
        RawEvent.objects.filter(
            type__in=list(types),
            event__in=sorted(set(names)),
            account_id__isnull=False,
            day__gte=timezone.localdate(after) - timedelta(days=1),
            day__lte=timezone.localdate(until) + timedelta(days=1),
            timestamp__gt=after,
            timestamp__lte=until,
        )
        .values_list("event", "account_id", "contact_id", "timestamp")
        .iterator(chunk_size=5000)
    )
