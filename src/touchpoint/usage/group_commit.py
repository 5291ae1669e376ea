"""Group commit: the concurrent batches of one web process written in one transaction.

A gunicorn worker (gthread) runs several requests at once. Each prepares its rows outside any lock,
then hands them here. The first to arrive becomes the leader: it takes every batch waiting at that
moment, writes them all in ONE transaction (claim the message ids, resolve, append the raw events,
note the pending rollups) and wakes each waiter with its own result. Requests that arrive while a
leader writes queue up for the next group. So a 200 still means committed, but N requests cost one
BEGIN and one COMMIT instead of N.

A batch that fails in a group must not fail the others: the group is rolled back and each of its
batches is written again on its own (with the usual retries on PostgreSQL), so only the bad one
answers an error.

On SQLite the leaders of the different web processes also take an exclusive lock on a file beside
the database before BEGIN. SQLite's own lock makes a waiting writer poll (sleeping 1, 2, 5 … 100 ms
between tries), and measured under load half of a request's time went to those sleeps; a blocked
`flock` wakes the moment the other process lets go. PostgreSQL needs no such lock: its transactions
run side by side.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import connection, transaction


@dataclass(eq=False)
class Job:
    """One request's batch, waiting to be written; `run` writes it inside the caller's transaction."""

    run: Callable[[], Any]
    done: bool = False
    outcome: Any = None
    error: BaseException | None = field(default=None, repr=False)

    def result(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.outcome


class GroupCommit:
    """Collects concurrent jobs and writes them in groups, one transaction per group."""

    def __init__(self, *, alone: Callable[[Job], None]) -> None:
        # `alone(job)` writes one job in its own transaction(s), setting its outcome or error.
        self._alone = alone
        self._cond = threading.Condition()
        self._queue: list[Job] = []
        self._leading = False
        self.groups = 0  # groups written by this process (for tests and the benchmark's curiosity)
        self.largest = 0

    def submit(self, run: Callable[[], Any]) -> Any:
        job = Job(run=run)
        with self._cond:
            self._queue.append(job)
            while not job.done and self._leading:
                self._cond.wait()
            if job.done:
                return job.result()
            self._leading = True
            group, self._queue = self._queue, []
        try:
            self._write(group)
        finally:
            with self._cond:
                self._leading = False
                for waiting in group:
                    if not waiting.done:  # the leader was interrupted (an exception past _write)
                        waiting.error = RuntimeError("the group commit was interrupted")
                        waiting.done = True
                self._cond.notify_all()
        return job.result()

    def _write(self, group: list[Job]) -> None:
        self.groups += 1
        self.largest = max(self.largest, len(group))
        if len(group) > 1:
            try:
                with writer_lock(), transaction.atomic():
                    outcomes = [job.run() for job in group]
            except Exception:  # one bad batch: write them one by one below
                pass
            else:
                for job, outcome in zip(group, outcomes, strict=True):
                    job.outcome, job.done = outcome, True
                return
        for job in group:
            try:
                self._alone(job)
            except Exception as error:  # handed to the request that sent this batch
                job.error = error
            job.done = True


_LOCK_FILES: dict[str, IO[bytes]] = {}
_LOCK_FILES_GUARD = threading.Lock()


def _lock_file() -> IO[bytes] | None:
    """This process's handle on the SQLite database's writer lock file (None: not a SQLite file)."""
    if connection.vendor != "sqlite":
        return None
    name = str(settings.DATABASES["default"]["NAME"])
    if not name or name == ":memory:" or name.startswith("file:") or "mode=memory" in name:
        return None
    # Keyed by process too: a handle inherited through a fork shares its lock with the parent's, so
    # each process opens its own.
    key = f"{os.getpid()}:{name}"
    with _LOCK_FILES_GUARD:
        handle = _LOCK_FILES.get(key)
        if handle is None:
            handle = _LOCK_FILES[key] = Path(f"{name}.ingest-lock").open("ab")  # noqa: SIM115 (kept open)
        return handle


@contextmanager
def writer_lock():
    """On a SQLite file: hold the cross-process ingestion lock (flock) for the block; else nothing."""
    handle = _lock_file()
    if handle is None:
        yield
        return
    fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
