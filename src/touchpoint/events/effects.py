"""Side effects after commit: the one way to enqueue background work or reach outside the database.

A write that starts a task, sends an email or calls a webhook must not do it before its transaction
commits: a rollback would leave the task running on rows that never existed (or the email sent for
a change that did not happen), and a task picked up before the commit would not see the rows yet.

    from touchpoint.events.effects import after_commit, enqueue_after_commit
    enqueue_after_commit(run_job_task, job.pk, dry_run)
    after_commit(lambda: send_mail(...))

Outside a transaction (autocommit) both run at once, as Django's `transaction.on_commit` does.
The scheduler's tick is the one exception: it enqueues inside its claim transaction on purpose, so
the queue row (django-tasks' database queue) and the claim commit together (exactly-once firing).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction


def after_commit(effect: Callable[[], Any], *, using: str | None = None) -> None:
    """Run `effect` once the current transaction commits; never if it rolls back."""
    transaction.on_commit(effect, using=using)


def enqueue_after_commit(task: Any, *args: Any, **kwargs: Any) -> None:
    """Enqueue a django-tasks `task` with these arguments once the current transaction commits."""
    transaction.on_commit(lambda: task.enqueue(*args, **kwargs))
