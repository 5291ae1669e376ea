"""Background work for journeys, enqueued by the scheduler (see apps.py)."""

from __future__ import annotations

from django_tasks import task

from touchpoint.journeys import engine


@task()
def recheck_task() -> int:
    """Make every waiting enrollment due once, so goals and exit rules met while it waits are noticed."""
    return engine.recheck_active()
