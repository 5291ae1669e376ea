"""The one read of domain events: the events after a position, in the order consumers get them."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from touchpoint.events.models import DomainEvent

Position = tuple[int, int]  # (transaction_id, event id); START is before every event
START: Position = (0, 0)
DEFAULT_LIMIT = 100


def events_after(
    position: Position | None, *, kinds: Iterable[str] | None = None, limit: int = DEFAULT_LIMIT
) -> QuerySet[DomainEvent]:
    """The settled events after `position` (at most `limit`), in delivery order.

    Delivery order is (transaction_id, id). On PostgreSQL only events whose writing transaction is
    older than every transaction still running are handed out ("settled"): an event id is taken from
    a sequence when the row is inserted, not when it commits, so a lower id can become visible after a
    higher one. Cutting at the snapshot's xmin means every event that will ever sort before the last
    one handed out is already visible, so a consumer that stores `events[-1].position` never skips one.
    On SQLite the transaction id is 0 and ids commit in order (one writer at a time).

    The price: an event is handed out only once every writing transaction that began before it has
    ended, anywhere in the PostgreSQL cluster; called inside a transaction that wrote events itself,
    those are not settled yet either.
    """
    transaction_id, event_id = position or START
    events = DomainEvent.objects.filter(transaction_id__gte=transaction_id).exclude(
        transaction_id=transaction_id, id__lte=event_id
    )
    if connection.vendor == "postgresql":
        # Evaluated in the statement's own snapshot: the rows read and the cut agree.
        events = events.filter(
            transaction_id__lt=RawSQL("pg_snapshot_xmin(pg_current_snapshot())::text::bigint", [])
        )
    if kinds is not None:
        events = events.filter(kind__in=list(kinds))
    return events.order_by("transaction_id", "id")[: max(0, int(limit))]
