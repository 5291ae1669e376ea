"""Demo step "tasks": the calls to action on the demo CSMs' books.

Each live account owned by a named CSM has a few open tasks, the more the higher its touch: some
overdue (more of them on accounts that fit poorly, whose CSMs are stretched), most due in the coming
weeks; and a history of tasks done or cancelled over the last three months, each with its "task_done" /
"task_cancelled" timeline entry as `complete_task` / `cancel_task` write them. The shared queue's
low-touch accounts get only the odd task. Titles are the CSM's own words, in English.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext_lazy as _

from touchpoint.accounts.models import EngagementModel, TimelineEntry
from touchpoint.demo.builders import (
    TIMELINE_COLUMNS,
    DemoAccount,
    DemoContext,
    register_data,
    step,
    timeline_row,
)
from touchpoint.tasks.models import Task, TaskPriority, TaskSource, TaskStatus, TaskType

# (type, title; {champion} is the account's champion, else "the champion")
TEMPLATES: tuple[tuple[str, str], ...] = (
    (TaskType.CALL, "Call {champion} about the rollout to the second team"),
    (TaskType.CALL, "Check in with {champion} after the support escalation"),
    (TaskType.MEETING, "Book the quarterly business review with {champion}"),
    (TaskType.MEETING, "Run the admin training session"),
    (TaskType.REVIEW, "Review usage of the reporting module"),
    (TaskType.REVIEW, "Update the success plan goals"),
    (TaskType.RISK, "Find a new sponsor: the decision maker is leaving"),
    (TaskType.RISK, "Follow up on the drop in weekly active users"),
    (TaskType.RENEWAL, "Send the renewal proposal"),
    (TaskType.RENEWAL, "Confirm the budget for next year with {champion}"),
    (TaskType.ONBOARDING, "Connect their data warehouse"),
    (TaskType.ONBOARDING, "Invite the remaining admins"),
    (TaskType.OTHER, "Share the release notes for the new dashboards"),
)
CANCEL_REASONS = (
    "Customer asked to postpone to next quarter",
    "Covered in the QBR instead",
    "Champion left; replanning with the new contact",
    "Duplicate of another task",
)
OPEN_BY_MODEL: dict[str, tuple[int, int]] = {
    EngagementModel.HIGH_TOUCH: (1, 4),
    EngagementModel.HYBRID: (0, 2),
    EngagementModel.LOW_TOUCH: (0, 1),
}
CLOSED_BY_MODEL: dict[str, tuple[int, int]] = {
    EngagementModel.HIGH_TOUCH: (2, 6),
    EngagementModel.HYBRID: (1, 3),
    EngagementModel.LOW_TOUCH: (0, 1),
}


def _title(rng: random.Random, demo_account: DemoAccount) -> tuple[str, str]:
    kind, template = rng.choice(TEMPLATES)
    champions = demo_account.contacts_with("champion")
    champion = champions[0].contact.name if champions else "the champion"
    return kind, template.format(champion=champion)


def _priority(rng: random.Random) -> int:
    return rng.choices([TaskPriority.HIGH, TaskPriority.NORMAL, TaskPriority.LOW], weights=[0.25, 0.6, 0.15])[
        0
    ]


@step("tasks", after=("revenue", "account_teams"))
def tasks(ctx: DemoContext) -> None:
    rng = ctx.rng
    today = ctx.anchor
    pool = ctx.users.get("pool")
    creators = {user.pk: user for user in ctx.users.values()}
    rows: list[Task] = []
    for demo_account in ctx.accounts:
        account = demo_account.account
        if demo_account.churned_on is not None or account.owner_id is None:
            continue
        model = account.engagement_model
        pooled = pool is not None and account.owner_id == pool.pk
        low, high = OPEN_BY_MODEL.get(model, (0, 1))
        open_count = rng.randint(low, high) if not pooled else int(rng.random() < 0.1)
        overdue_chance = 0.15 + 0.35 * (1 - demo_account.fit)
        created_floor = account.created_at.astimezone(ctx.tz).date()
        for _n in range(open_count):
            kind, title = _title(rng, demo_account)
            due = (
                today - timedelta(days=rng.randint(1, 12))
                if rng.random() < overdue_chance
                else (today + timedelta(days=rng.choice([0, 1, 2, 3, 5, 7, 10, 14, 21, 30, 45])))
            )
            created = max(created_floor, min(due, today) - timedelta(days=rng.randint(3, 20)))
            rows.append(
                Task(
                    account=account,
                    title=title,
                    owner_id=account.owner_id,
                    due_on=due,
                    priority=_priority(rng),
                    type=kind,
                    source=TaskSource.MANUAL,
                    status=TaskStatus.OPEN,
                    created_by_id=account.owner_id,
                    created_at=_moment(ctx, created, rng),
                )
            )
        closed_low, closed_high = CLOSED_BY_MODEL.get(model, (0, 1))
        for _n in range(0 if pooled else rng.randint(closed_low, closed_high)):
            kind, title = _title(rng, demo_account)
            closed_on = today - timedelta(days=rng.randint(1, 90))
            if closed_on < created_floor:
                continue
            due = closed_on + timedelta(days=rng.randint(-5, 3))
            cancelled = rng.random() < 0.2
            created = max(created_floor, closed_on - timedelta(days=rng.randint(2, 30)))
            rows.append(
                Task(
                    account=account,
                    title=title,
                    owner_id=account.owner_id,
                    due_on=due,
                    priority=_priority(rng),
                    type=kind,
                    source=TaskSource.MANUAL,
                    status=TaskStatus.CANCELLED if cancelled else TaskStatus.DONE,
                    cancel_reason=rng.choice(CANCEL_REASONS) if cancelled else "",
                    created_by_id=account.owner_id,
                    created_at=_moment(ctx, created, rng),
                    closed_at=_moment(ctx, closed_on, rng),
                    closed_by_id=account.owner_id,
                )
            )
    created_rows = ctx.bulk_create(Task, rows)
    task_type = ContentType.objects.get_for_model(Task).pk
    ctx.insert_rows(
        TimelineEntry,
        TIMELINE_COLUMNS,
        [
            timeline_row(
                account_id=task.account_id,
                kind="task_done" if task.status == TaskStatus.DONE else "task_cancelled",
                occurred_at=task.closed_at,
                title=(
                    f"Task done: {task.title}"
                    if task.status == TaskStatus.DONE
                    else f"Task cancelled: {task.title}"
                ),
                subject_type_id=task_type,
                subject_id=task.pk,
                data={"title": task.title}
                if task.status == TaskStatus.DONE
                else {"title": task.title, "reason": task.cancel_reason},
                actor_id=task.closed_by_id if task.closed_by_id in creators else None,
            )
            for task in created_rows
            if task.closed_at is not None and task.account_id is not None  # the demo's are all on accounts
        ],
    )


def _moment(ctx: DemoContext, day: date, rng: random.Random) -> datetime:
    """A working-hours moment on `day`, never at or after the end of the generated period."""
    moment = datetime.combine(day, time(rng.randint(8, 17), rng.randint(0, 59)), tzinfo=ctx.tz)
    return min(moment, ctx.end - timedelta(minutes=1))


# Before the accounts (whose deletion would take the tasks with them anyway).
register_data(
    "tasks",
    label=_("tasks"),
    count=lambda: Task.objects.count(),
    delete=lambda: Task.objects.all().delete(),
    order=5,
)
