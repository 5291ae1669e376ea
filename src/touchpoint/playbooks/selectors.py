"""Reads of playbooks that pages, the API and the YAML export share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from touchpoint.accounts.models import Account
from touchpoint.playbooks.models import (
    Playbook,
    PlaybookRule,
    PlaybookRun,
    PlaybookRunStep,
    PlaybookStep,
    RunStatus,
)
from touchpoint.revenue.models import LIVE_STATUSES, Subscription
from touchpoint.tasks.models import TaskStatus


@dataclass
class RunProgress:
    """A run with how far it got: steps done (tasks done) out of all its steps, and the next open one."""

    run: PlaybookRun
    steps: list[PlaybookRunStep]

    @property
    def total(self) -> int:
        return len(self.steps)

    @property
    def done(self) -> int:
        return sum(1 for s in self.steps if s.task is not None and s.task.status == TaskStatus.DONE)

    @property
    def cancelled(self) -> int:
        return sum(1 for s in self.steps if s.task is not None and s.task.status == TaskStatus.CANCELLED)

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0

    @property
    def next_step(self) -> PlaybookRunStep | None:
        open_steps = [s for s in self.steps if s.task is not None and s.task.status == TaskStatus.OPEN]
        return min(open_steps, key=lambda s: (s.task.due_on, s.position)) if open_steps else None  # type: ignore[union-attr]


def playbooks(*, active_only: bool = False) -> QuerySet[Playbook]:
    """Playbooks with their steps in order (and their rules), by name."""
    queryset = Playbook.objects.prefetch_related(
        Prefetch("steps", queryset=PlaybookStep.objects.order_by("position"))
    ).order_by("name", "id")
    if active_only:
        queryset = queryset.filter(is_active=True)
    return queryset


def rules() -> QuerySet[PlaybookRule]:
    return PlaybookRule.objects.select_related("playbook").order_by("kind")


def runs(*, account: Account, status: str = "") -> QuerySet[PlaybookRun]:
    """The account's playbook runs, newest first, with their steps' tasks (for progress)."""
    queryset = (
        PlaybookRun.objects.filter(account=account)
        .select_related("playbook", "started_by")
        .prefetch_related(
            Prefetch(
                "run_steps",
                queryset=PlaybookRunStep.objects.select_related("task__owner").order_by("position"),
            )
        )
        .order_by("-started_at", "-id")
    )
    if status:
        queryset = queryset.filter(status=status)
    return queryset


def progress(run: PlaybookRun) -> RunProgress:
    return RunProgress(run=run, steps=list(run.run_steps.all()))


def account_runs(*, account: Account, ended_limit: int = 5) -> tuple[list[RunProgress], list[RunProgress]]:
    """(running, recently ended) runs of the account, each with its progress."""
    running = [progress(run) for run in runs(account=account, status=RunStatus.RUNNING)]
    ended = [progress(run) for run in runs(account=account).exclude(status=RunStatus.RUNNING)[:ended_limit]]
    return running, ended


def next_renewal_date(account: Account, *, today: date | None = None) -> date | None:
    """The account's next renewal date among its live subscriptions (today or later)."""
    today = today or timezone.localdate()
    return (
        Subscription.objects.filter(account=account, status__in=LIVE_STATUSES, renewal_date__gte=today)
        .order_by("renewal_date")
        .values_list("renewal_date", flat=True)
        .first()
    )


def default_anchor(*, account: Account, playbook: Playbook, today: date | None = None) -> date:
    """Where a playbook started by hand is anchored: a playbook whose steps come before its anchor
    (the renewal playbook) counts back from the account's next renewal; others start today."""
    today = today or timezone.localdate()
    if playbook.steps.filter(day_offset__lt=0).exists():
        return next_renewal_date(account, today=today) or today
    return today


def running_counts() -> dict[int, int]:
    """How many runs of each playbook are under way, by playbook id."""
    from django.db.models import Count

    return dict(
        PlaybookRun.objects.filter(status=RunStatus.RUNNING)
        .values("playbook_id")
        .annotate(n=Count("id"))
        .values_list("playbook_id", "n")
    )
