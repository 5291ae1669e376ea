"""Background work of usage: raw-event retention, enqueued daily by the scheduler (see apps.py)."""

from __future__ import annotations

from django_tasks import task

from touchpoint.usage import retention


@task()
def delete_old_raw_events_task() -> int:
    """Delete raw events older than RAW_EVENT_RETENTION_DAYS (rollups stay); returns rows deleted."""
    result = retention.delete_old_raw_events()
    return result.rows_deleted
