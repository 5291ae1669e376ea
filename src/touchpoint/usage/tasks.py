"""Background work of usage: raw-event retention (and the rollups' kept people), enqueued daily by the scheduler (see apps.py)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_tasks import task

from touchpoint.usage import retention, rollups


@task()
def delete_old_raw_events_task() -> int:
    """Delete raw events older than RAW_EVENT_RETENTION_DAYS (rollups stay), and the people kept for
    adding to the rollups of days older than rollups.PEOPLE_KEPT_DAYS; returns raw events deleted."""
    result = retention.delete_old_raw_events()
    rollups.forget_people_before(timezone.localdate() - timedelta(days=rollups.PEOPLE_KEPT_DAYS))
    return result.rows_deleted
