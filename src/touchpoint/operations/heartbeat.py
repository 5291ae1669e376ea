"""The worker's heartbeat and how late it is.

Each `touchpoint worker` process runs `beat` from its upkeep loop (a registered poller, every
HEARTBEAT_SECONDS): it moves its own row's `beat_at` to now, and drops the rows of workers silent for
a day (stopped or replaced). `/healthz` reports the age of the latest beat of any worker.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from touchpoint.operations.models import WorkerHeartbeat

HEARTBEAT_SECONDS = 30.0
FORGET_AFTER = timedelta(days=1)
_STARTED_AT = timezone.now()


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:200]


def beat() -> None:
    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(
        worker=worker_name(),
        defaults={"beat_at": now},
        create_defaults={"beat_at": now, "started_at": _STARTED_AT},
    )
    WorkerHeartbeat.objects.filter(beat_at__lt=now - FORGET_AFTER).delete()


@dataclass(frozen=True)
class WorkerState:
    state: str  # "ok" | "late" | "never"
    age_seconds: int | None


def worker_state() -> WorkerState:
    """How long ago any worker last beat, against WORKER_LATE_SECONDS."""
    latest = WorkerHeartbeat.objects.order_by("-beat_at").values_list("beat_at", flat=True).first()
    if latest is None:
        return WorkerState("never", None)
    age = max(0, int((timezone.now() - latest).total_seconds()))
    return WorkerState("ok" if age <= settings.WORKER_LATE_SECONDS else "late", age)
