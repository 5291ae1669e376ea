"""Schedules apps register, and the tick that enqueues the ones that are due.

An app registers in its AppConfig.ready():

    from touchpoint.scheduler.registry import register_schedule
    register_schedule("health.recompute", cron="15 2 * * *", task=recompute_all_task)

Any number of workers may tick at once (several machines on PostgreSQL): a schedule fires only for
the worker whose conditional UPDATE moves `next_run_at` forward, and that worker enqueues the task
in the same transaction, so a due schedule is enqueued exactly once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from croniter import croniter
from django.db import transaction
from django.utils import timezone

from touchpoint.scheduler.models import ScheduleState

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Schedule:
    name: str
    cron: str  # minute hour day month weekday, in the server's TIME_ZONE
    task: Any  # a django_tasks Task
    description: str = ""

    def next_after(self, moment: datetime) -> datetime:
        local = timezone.localtime(moment)
        return croniter(self.cron, local).get_next(datetime)

    def previous_before(self, moment: datetime) -> datetime:
        local = timezone.localtime(moment)
        return croniter(self.cron, local).get_prev(datetime)


_SCHEDULES: dict[str, Schedule] = {}


def register_schedule(name: str, *, cron: str, task: Any, description: str = "") -> Schedule:
    if not croniter.is_valid(cron):
        raise ValueError(f"schedule {name!r}: {cron!r} is not a cron expression")
    schedule = Schedule(name=name, cron=cron, task=task, description=description)
    _SCHEDULES[name] = schedule
    return schedule


@dataclass(frozen=True)
class Poller:
    """Light, frequent upkeep each worker runs itself (not queued), e.g. catching rollups up."""

    name: str
    every: float  # seconds
    run: Any  # a callable with no arguments; safe to run in several workers at once


_POLLERS: dict[str, Poller] = {}


def register_poller(name: str, *, every: float, run: Any) -> Poller:
    poller = Poller(name=name, every=every, run=run)
    _POLLERS[name] = poller
    return poller


def registered_pollers() -> list[Poller]:
    return sorted(_POLLERS.values(), key=lambda poller: poller.name)


def registered_schedules() -> list[Schedule]:
    return sorted(_SCHEDULES.values(), key=lambda schedule: schedule.name)


def tick(now: datetime | None = None) -> list[str]:
    """Enqueue every schedule that is due; return the names enqueued (by this caller)."""
    now = now or timezone.now()
    fired = []
    for schedule in registered_schedules():
        # A schedule seen for the first time runs at its latest past fire time, so a daily job
        # whose hour passed before the first worker started still runs today.
        state, _ = ScheduleState.objects.get_or_create(
            name=schedule.name, defaults={"next_run_at": schedule.previous_before(now)}
        )
        if state.next_run_at > now:
            continue
        with transaction.atomic():
            claimed = ScheduleState.objects.filter(name=schedule.name, next_run_at=state.next_run_at).update(
                next_run_at=schedule.next_after(now), last_enqueued_at=now
            )
            if not claimed:
                continue  # another worker fired it
            result = schedule.task.enqueue()
            ScheduleState.objects.filter(name=schedule.name).update(last_task_id=str(result.id))
        fired.append(schedule.name)
        logger.info("Enqueued scheduled task %s (%s)", schedule.name, result.id)
    return fired
