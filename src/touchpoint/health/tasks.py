"""Background work for health: the daily recompute, enqueued by the scheduler (see apps.py)."""

from __future__ import annotations

from django_tasks import task

from touchpoint.health import services


@task()
def recompute_health_task(day: str | None = None) -> int:
    """Score every account for the day (ISO date; today when empty), on data brought up to date first."""
    from datetime import date

    from touchpoint.health.measures import prepare_for_scoring

    prepare_for_scoring()
    return services.recompute_health(day=date.fromisoformat(day) if day else None)
