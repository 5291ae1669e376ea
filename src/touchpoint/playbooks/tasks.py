"""Background work for playbooks: the daily renewal scan, enqueued by the scheduler (see apps.py)."""

from __future__ import annotations

from django_tasks import task

from touchpoint.playbooks import triggers


@task()
def scan_renewals_task() -> int:
    """Start the renewal playbook for each renewal entering its window; returns how many started."""
    return len(triggers.scan_renewals())
