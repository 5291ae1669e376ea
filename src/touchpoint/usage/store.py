"""The raw event store: the one module that knows how raw events are kept.

Today: two tables in the main database (`ReceivedMessage` for idempotency, `RawEvent` for the
events). A columnar engine can take this module over later; nothing else reads or writes raw events.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from django.db import connection
from django.utils import timezone

from touchpoint.usage.models import RawEvent, ReceivedMessage, Source
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
    with connection.cursor() as cursor:
        for start in range(0, len(unique_ids), _CHUNK):
            chunk = unique_ids[start:start + _CHUNK]
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


def append(source: Source, events: Iterable[Resolved], *, received_at: datetime) -> int:
    """Store events whose message id is new for the source; returns how many were stored."""
    rows = [
        RawEvent(
            source=source, message_id=e.message.message_id, type=e.message.type, event=e.message.event,
            user_id=e.message.user_id, anonymous_id=e.message.anonymous_id, group_id=e.message.group_id,
            account_id=e.account_id, contact_id=e.contact_id, timestamp=e.message.timestamp,
            day=timezone.localtime(e.message.timestamp).date(),
            received_at=received_at, properties=e.message.properties or e.message.traits,
            context=e.message.context,
        )
        for e in events
    ]
    RawEvent.objects.bulk_create(rows, batch_size=500)
    return len(rows)


def attach_user_events(*, user_id: str, account_id: int, contact_id: int | None) -> set[date]:
    """Give a user's events that arrived before their group call to their account; returns their days."""
    waiting = RawEvent.objects.filter(user_id=user_id, account__isnull=True)
    days = set(waiting.values_list("day", flat=True))
    if days:
        waiting.update(account_id=account_id, contact_id=contact_id)
    return days


def rename_user(*, previous_id: str, user_id: str) -> int:
    """After an alias: events sent under the old or anonymous id now belong to the user."""
    renamed = RawEvent.objects.filter(user_id=previous_id).update(user_id=user_id)
    renamed += RawEvent.objects.filter(user_id="", anonymous_id=previous_id).update(user_id=user_id)
    return renamed


def recent_events(source: Source, *, limit: int = 50) -> list[RawEvent]:
    """The newest events from a source, for the live debugger."""
    return list(RawEvent.objects.filter(source=source).order_by("-received_at", "-id")[:limit])
