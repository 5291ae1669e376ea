"""`touchpoint worker`: run background tasks from the database queue and fire due schedules."""

from __future__ import annotations

import gc
import logging
import threading
import time

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections, connection
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _
from django_tasks_db.management.commands.db_worker import Worker

from touchpoint.scheduler.registry import registered_pollers, tick

logger = logging.getLogger("touchpoint.scheduler")


def _upkeep_forever(stop: threading.Event, tick_every: float, schedules: bool) -> None:
    """Fire due schedules every `tick_every` seconds and run each poller at its own pace."""
    last_run: dict[str, float] = {}
    while not stop.is_set():
        now = time.monotonic()
        jobs = [(poller.name, poller.every, poller.run) for poller in registered_pollers()]
        if schedules:
            jobs.append(("scheduler.tick", tick_every, tick))
        for name, every, run in jobs:
            if now - last_run.get(name, float("-inf")) < every:
                continue
            last_run[name] = now
            try:
                run()
            except Exception:  # one failure must not stop the worker; the next round retries
                logger.exception("%s failed", name)
            finally:
                close_old_connections()
                connection.close()
        # Sleep until the next job is due (a poller may ask for less than a second), at most a second.
        now = time.monotonic()
        due = min((last_run.get(name, now) + every - now for name, every, _run in jobs), default=1.0)
        stop.wait(min(1.0, max(0.05, due)))


class Command(BaseCommand):
    help = _("Run background tasks (imports, recomputes, journeys) and fire scheduled ones.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--queue", default="*", help=_("Queues to serve, comma-separated ('*': all)."))
        parser.add_argument(
            "--interval", type=float, default=1.0, help=_("Seconds to wait when the queue is empty.")
        )
        parser.add_argument(
            "--tick",
            dest="tick_seconds",
            type=float,
            default=30.0,
            help=_("Seconds between scheduler ticks."),
        )
        parser.add_argument(
            "--no-schedules",
            action="store_true",
            help=_("Only run tasks; let other workers fire the schedules."),
        )
        parser.add_argument("--batch", action="store_true", help=_("Run what is queued, then exit."))

    def handle(
        self,
        *args,
        queue: str,
        interval: float,
        tick_seconds: float,
        no_schedules: bool,
        batch: bool,
        verbosity: int,
        **options,
    ) -> None:
        logging.basicConfig(
            level=logging.INFO if verbosity else logging.WARNING,
            format="%(asctime)s %(name)s %(levelname)s %(message)s",
        )
        stop = threading.Event()
        if batch:
            for poller in registered_pollers():
                poller.run()
            if not no_schedules:
                tick()
        else:
            threading.Thread(
                target=_upkeep_forever,
                args=(stop, tick_seconds, not no_schedules),
                daemon=True,
                name="upkeep",
            ).start()
        worker = Worker(
            queue_names=queue.split(","),
            interval=interval,
            batch=batch,
            backend_name="default",
            startup_delay=not batch,
            max_tasks=None,
            worker_id=get_random_string(32),
            excluded_queue_names=[],
        )
        worker.configure_signals()
        gc.freeze()  # Django and the apps, loaded for good: full collections walk only what the work makes
        try:
            worker.run()
        finally:
            stop.set()
