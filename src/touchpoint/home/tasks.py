"""Background work for the home page: the daily digest, enqueued by the scheduler (see apps.py)."""

from __future__ import annotations

from django_tasks import task

from touchpoint.home import digest


@task()
def send_daily_digests_task(day: str | None = None) -> int:
    """Send the day's digest (ISO date; today when empty) to everyone who gets one and has not had it."""
    from datetime import date

    return digest.send_daily_digests(day=date.fromisoformat(day) if day else None)
