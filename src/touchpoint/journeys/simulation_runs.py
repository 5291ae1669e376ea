"""Simulations asked for on the builder page, run by a worker in the background (the CLI's
`touchpoint journey simulate` still runs `simulation.simulate` in its own process).

    run, started = start_run(version=version, days=90, actor=user)   # the page's button
    simulate_task(run_id)                                            # a worker runs it

On a large database a simulation takes tens of seconds: too long for a web request. The button
makes a `SimulationRun` (queued) and enqueues `simulate_task` once that commits; the worker claims
the run (queued → running by a conditional UPDATE, so a task delivered twice runs it once), reports
how far it got on the row (`stage`, `percent`, `heartbeat_at`) at most every PROGRESS_SECONDS, and
ends it done with the result's JSON or failed with the error. The page polls the row with htmx.

One run per version at a time: while one is queued or running, a second click gets that one back
(the journey's row is locked while deciding, and a partial unique key on the unfinished runs backs
it). A run whose worker has been silent for STALE_AFTER is taken as dead: the page says so, and the
next click marks it failed and starts another. The simulation itself only reads; the only writes
are to the run's own row.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_tasks import task

from touchpoint.events.effects import enqueue_after_commit
from touchpoint.journeys import simulation
from touchpoint.journeys.definition import parse
from touchpoint.journeys.models import (
    UNFINISHED_SIMULATION,
    Journey,
    JourneyVersion,
    SimulationRun,
    SimulationStatus,
)

logger = logging.getLogger("touchpoint.journeys")

MAX_DAYS = 365
STALE_AFTER = timedelta(minutes=10)  # no progress for this long: its worker is gone
PROGRESS_SECONDS = 1.0  # at most one progress write per second
ERROR_MAX = 1000

# How much of the bar each stage fills: history is read in a few big queries, most of the time goes
# to following the entries, rendering the messages shown is short.
_STAGE_SPAN = {"history": (0, 10), "entries": (10, 95), "messages": (95, 99)}


class Cancelled(Exception):
    """The run's row is no longer running (taken as dead, or deleted): stop simulating."""


def is_stale(run: SimulationRun, *, now: Any = None) -> bool:
    """An unfinished run whose worker has not reported for STALE_AFTER (a queued one: not started)."""
    now = now or timezone.now()
    return run.status in UNFINISHED_SIMULATION and now - run.heartbeat_at > STALE_AFTER


def latest_run(version: JourneyVersion) -> SimulationRun | None:
    """The newest simulation of this version, if any (the builder page shows it)."""
    return version.simulation_runs.order_by("-created_at", "-pk").first()


def start_run(*, version: JourneyVersion, days: int, actor: Any = None) -> tuple[SimulationRun, bool]:
    """Queue a simulation of this version over the last `days` days: (the run, True).

    While one is queued or running for the version: (that one, False), nothing new starts. One whose
    worker went silent is marked failed first, then a new one starts.
    """
    if not 1 <= days <= MAX_DAYS:
        raise ValidationError({"days": _("A simulation covers 1 to %(max)d days.") % {"max": MAX_DAYS}})
    with transaction.atomic():
        # The journey's row lock makes two clicks decide one after the other.
        Journey.objects.select_for_update().get(pk=version.journey_id)
        unfinished = SimulationRun.objects.filter(version=version, status__in=UNFINISHED_SIMULATION).first()
        if unfinished is not None:
            if not is_stale(unfinished):
                return unfinished, False
            _fail(unfinished.pk, _("It stopped reporting progress: the worker running it was stopped."))
        try:
            with transaction.atomic():  # the unique key on unfinished runs is the backstop
                run = SimulationRun.objects.create(
                    journey_id=version.journey_id,
                    version=version,
                    days=days,
                    language=translation.get_language() or settings.LANGUAGE_CODE,
                    requested_by=actor if getattr(actor, "pk", None) else None,
                )
        except IntegrityError:
            existing = SimulationRun.objects.get(version=version, status__in=UNFINISHED_SIMULATION)
            return existing, False
        enqueue_after_commit(simulate_task, run.pk)
    return run, True


def _fail(run_id: int, message: str) -> None:
    SimulationRun.objects.filter(pk=run_id, status__in=UNFINISHED_SIMULATION).update(
        status=SimulationStatus.FAILED, error=message[:ERROR_MAX], finished_at=timezone.now()
    )


class _Reporter:
    """simulation's progress callback: writes the stage and percent to the run's row, at most every
    PROGRESS_SECONDS (and at each new stage); raises Cancelled once the row is no longer running."""

    def __init__(self, run_id: int) -> None:
        self.run_id = run_id
        self.stage = ""
        self.last = float("-inf")

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if stage == self.stage and now - self.last < PROGRESS_SECONDS:
            return
        self.stage, self.last = stage, now
        low, high = _STAGE_SPAN.get(stage, (0, 99))
        percent = low + (high - low) * done // total if total else low
        updated = SimulationRun.objects.filter(pk=self.run_id, status=SimulationStatus.RUNNING).update(
            stage=stage, percent=min(percent, 99), heartbeat_at=timezone.now()
        )
        if not updated:
            raise Cancelled


@task()
def simulate_task(run_id: int) -> str:
    """Run a queued simulation (see the module's docstring); returns its final status."""
    now = timezone.now()
    claimed = SimulationRun.objects.filter(pk=run_id, status=SimulationStatus.QUEUED).update(
        status=SimulationStatus.RUNNING, started_at=now, heartbeat_at=now, stage="history", percent=0
    )
    if not claimed:
        return "skipped"  # run already, taken as dead, or deleted with its journey
    run = SimulationRun.objects.select_related("version").get(pk=run_id)
    with translation.override(run.language):
        try:
            result = simulation.simulate_with_progress(
                parse(run.version.definition), days=run.days, progress=_Reporter(run_id)
            )
        except Cancelled:
            return "cancelled"
        except Exception as error:  # a failed simulation must say so on the page, not stay "running"
            logger.exception("simulation %s of journey version %s failed", run_id, run.version_id)
            _fail(run_id, f"{type(error).__name__}: {error}")
            return SimulationStatus.FAILED
        finished = SimulationRun.objects.filter(pk=run_id, status=SimulationStatus.RUNNING).update(
            status=SimulationStatus.DONE,
            result=result.to_json(),
            stage="",
            percent=100,
            finished_at=timezone.now(),
            heartbeat_at=timezone.now(),
        )
    return SimulationStatus.DONE if finished else "cancelled"
