"""Background work for domain events: retention, enqueued daily by the scheduler (see apps.py)."""

from __future__ import annotations

from django_tasks import task

from touchpoint.events import services


@task()
def delete_old_events_task() -> int:
    """Delete the events older than DOMAIN_EVENT_RETENTION_DAYS."""
    return services.delete_old_events()
