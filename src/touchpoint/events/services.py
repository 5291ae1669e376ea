"""Writes of domain events: record one inside a change's transaction, follow them as a consumer, forget old ones.

Any app records what happened with `record_event(kind=..., account=..., subject=..., payload=...)`
inside the transaction of the write it describes, so an event exists exactly when the change does.

A consumer (journeys, an outbound webhook, a search index) follows the stream with `consume`:

    def on_event(event: DomainEvent) -> None: ...   # writes through services; raises to retry later
    consume("journeys", on_event, batch_size=100)

`consume` reads the events after the consumer's stored position and, in ONE transaction, runs the
handler on each and stores the new position. If the handler raises (or the process dies) half-way,
the handler's writes and the position roll back together, so the next run starts at the same event:
nothing is lost and nothing is applied twice. Outbound effects a handler starts (emails, webhooks)
go through `touchpoint.events.effects.after_commit` so they also happen only once the batch commits.
The position row is locked for the batch, so two workers running the same consumer take turns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from touchpoint.events.models import ConsumerPosition, DomainEvent
from touchpoint.events.registry import is_registered
from touchpoint.events.selectors import DEFAULT_LIMIT, events_after


def subject_type_of(subject: models.Model) -> str:
    """How an event names the kind of its subject: "app_label.model" (e.g. "revenue.subscription")."""
    return f"{subject._meta.app_label}.{subject._meta.model_name}"


def record_event(
    *,
    kind: str,
    account: models.Model | int | None = None,
    subject: models.Model | None = None,
    payload: dict[str, Any] | None = None,
    actor: Any = None,
    occurred_at: datetime | None = None,
) -> DomainEvent:
    """Record that something happened, inside the caller's transaction (it commits or rolls back with it).

    `payload` must be JSON as it is (str, numbers, lists, dicts): write ids and plain values, not
    model instances, so a consumer reading it next year needs no code of ours to understand it.
    """
    if not is_registered(kind):
        raise ValueError(f"unknown domain event kind {kind!r}: register it in touchpoint.events.registry")
    account_id = account.pk if isinstance(account, models.Model) else account
    return DomainEvent.objects.create(
        kind=kind,
        account_id=account_id,
        subject_type=subject_type_of(subject) if subject is not None else "",
        subject_id=subject.pk if subject is not None else None,
        payload=payload or {},
        actor=actor if actor is not None and getattr(actor, "pk", None) else None,
        occurred_at=occurred_at or timezone.now(),
    )


def consume(
    name: str,
    handler: Callable[[DomainEvent], None],
    *,
    batch_size: int = DEFAULT_LIMIT,
    kinds: Iterable[str] | None = None,
) -> int:
    """Hand the next batch of events after consumer `name`'s position to `handler`; returns how many.

    One transaction: the handler's writes and the new position commit together, or neither does.
    Call it again until it returns 0 to catch up.
    """
    ConsumerPosition.objects.get_or_create(name=name)
    with transaction.atomic():
        # Locked for the batch: a second worker running the same consumer waits, then reads the
        # position this one stored, instead of handing out the same events again.
        consumer = ConsumerPosition.objects.select_for_update().get(name=name)
        events = list(events_after(consumer.position, kinds=kinds, limit=batch_size))
        for event in events:
            handler(event)
        if events:
            consumer.transaction_id, consumer.event_id = events[-1].position
            consumer.save(update_fields=["transaction_id", "event_id", "updated_at"])
    return len(events)


def delete_old_events(*, now: datetime | None = None, days: int | None = None) -> int:
    """Forget events recorded more than DOMAIN_EVENT_RETENTION_DAYS ago; returns how many went."""
    days = settings.DOMAIN_EVENT_RETENTION_DAYS if days is None else days
    cutoff = (now or timezone.now()) - timedelta(days=days)
    deleted, _by_model = DomainEvent.objects.filter(created_at__lt=cutoff).delete()
    return deleted
