"""Retention of raw events: those older than RAW_EVENT_RETENTION_DAYS go, their rollups stay.

A daily scheduled job (`usage.retention`, see apps.py) runs `delete_old_raw_events`. On PostgreSQL
whole months older than the cutoff are dropped as partitions (instant, no bloat); what is left before
the cutoff (the cutoff's own month, the DEFAULT partition of old backfills) and everything on SQLite
is deleted in chunks of RAW_EVENT_RETENTION_CHUNK rows, one short transaction each, so ingestion (the
single writer on SQLite) never waits long. An event whose (account, day) still waits for its rollup
refresh is kept until the refresh has counted it: the rollups are all that remains of a deleted day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, Min, OuterRef
from django.utils import timezone

from touchpoint.usage import store
from touchpoint.usage.models import PendingRollup, RawEvent


@dataclass(frozen=True)
class RetentionResult:
    cutoff: date | None  # events of days before this one went; None: retention is off
    partitions_dropped: list[str]
    rows_deleted: int


def retention_cutoff(*, today: date | None = None, days: int | None = None) -> date | None:
    days = settings.RAW_EVENT_RETENTION_DAYS if days is None else days
    if days <= 0:
        return None
    return (today or timezone.localdate()) - timedelta(days=days)


def _rolled_up_before(cutoff: date):
    waiting = PendingRollup.objects.filter(account_id=OuterRef("account_id"), day=OuterRef("day"))
    return RawEvent.objects.filter(day__lt=cutoff).exclude(Exists(waiting))


def delete_old_raw_events(
    *, today: date | None = None, days: int | None = None, chunk: int | None = None
) -> RetentionResult:
    """Delete raw events of days before today - RAW_EVENT_RETENTION_DAYS whose rollups are done."""
    cutoff = retention_cutoff(today=today, days=days)
    if cutoff is None:
        return RetentionResult(cutoff=None, partitions_dropped=[], rows_deleted=0)
    chunk = settings.RAW_EVENT_RETENTION_CHUNK if chunk is None else chunk
    # Whole months first (PostgreSQL), up to the month of the oldest day still waiting for its rollup.
    month = cutoff.replace(day=1)
    oldest_waiting = PendingRollup.objects.filter(day__lt=cutoff).aggregate(day=Min("day"))["day"]
    if oldest_waiting is not None:
        month = min(month, oldest_waiting.replace(day=1))
    dropped = store.drop_partitions_before(month)
    deleted = 0
    while True:
        with transaction.atomic():
            ids = list(_rolled_up_before(cutoff).order_by().values_list("id", flat=True)[:chunk])
            if not ids:
                break
            count, _by_model = RawEvent.objects.filter(day__lt=cutoff, id__in=ids).delete()
            deleted += count
    return RetentionResult(cutoff=cutoff, partitions_dropped=dropped, rows_deleted=deleted)
