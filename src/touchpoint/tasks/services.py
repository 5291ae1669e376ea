"""Every write to tasks. Each public function is one transaction: it validates, writes, and records
the change (timeline for what a person closed, audit log, domain event).

A task about something other than an account (another app's row, named by `about_label` and linked by
`about_url`) is written by the same functions with `account=None`: it must have an owner, it has no
account timeline, and its domain events carry no account (their subject is the task).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from touchpoint.accounts.models import Account
from touchpoint.accounts.services import record_on_timeline
from touchpoint.bulk import insert_rows
from touchpoint.events.models import DomainEvent
from touchpoint.events.registry import is_registered
from touchpoint.events.services import record_event, subject_type_of
from touchpoint.tasks.models import Task, TaskPriority, TaskSource, TaskStatus, TaskType
from touchpoint.users.models import AuditLogEntry, User
from touchpoint.users.permissions import can
from touchpoint.users.services import record_audit

# What `update_task` may change (closing has its own services; the account, what the task is about
# and the source stay).
EDITABLE = ("title", "owner", "due_on", "priority", "type", "notes")


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()

# Far enough for any real plan, near enough to catch a typo in the year.
LATEST_DUE = 5 * 366


def check_due_on(due_on: date, *, today: date | None = None) -> date:
    today = today or timezone.localdate()
    if (due_on - today).days > LATEST_DUE:
        raise ValidationError({"due_on": _("A due date more than five years ahead is a typo, surely.")})
    if (today - due_on).days > LATEST_DUE:
        raise ValidationError({"due_on": _("A due date more than five years ago is a typo, surely.")})
    return due_on


def check_owner(owner: User | None, *, account: Account | None) -> User | None:
    """A task's owner must be someone who may change the account's tasks (its book, a leader, an admin).

    A task about no account may belong to anyone active (the other app chose them), but to someone.
    """
    if account is None:
        if owner is None:
            raise ValidationError({"owner": _("A task about no account needs an owner.")})
        if not owner.is_active:
            raise ValidationError({"owner": _("%(name)s cannot work on tasks.") % {"name": owner}})
        return owner
    if owner is not None and not (owner.is_active and can(owner, "tasks.change_task", account)):
        raise ValidationError({"owner": _("%(name)s cannot work on this account's tasks.") % {"name": owner}})
    return owner


def check_about(*, account: Account | None, about_label: str, about_url: str) -> tuple[str, str]:
    """What a task is about, cleaned: a label (required without an account) and a path on this site."""
    about_label = about_label.strip()
    about_url = about_url.strip()
    if account is None and not about_label:
        raise ValidationError({"about_label": _("A task about no account must say what it is about.")})
    if about_url and not about_label:
        raise ValidationError({"about_label": _("Name what the link leads to.")})
    if about_url and not (
        about_url.startswith("/")
        and not about_url.startswith(("//", "/\\"))
        and about_url.isprintable()
        and " " not in about_url
        and url_has_allowed_host_and_scheme(about_url, allowed_hosts=set())
    ):
        # Only a path on this site: a link back must not lead anyone to another host.
        raise ValidationError({"about_url": _('Give a path on this site, starting with a single "/".')})
    return about_label, about_url


@transaction.atomic
def create_task(
    *,
    title: str,
    due_on: date,
    actor: User | None,
    account: Account | None = None,
    owner: User | None = None,
    priority: int = TaskPriority.NORMAL,
    type: str = TaskType.OTHER,
    source: str = TaskSource.MANUAL,
    notes: str = "",
    about_label: str = "",
    about_url: str = "",
) -> Task:
    """A new open task on the account (owned by the account's owner unless someone else is named), or,
    without an account, about what `about_label` names (then `owner` is required).

    `about_url` links back to what the task is about (a path on this site). Asking again for a task
    with the same link, for the same owner (and account), while the first is open gives that first
    task back unchanged, so clicking "make a task" twice makes one.
    """
    title = title.strip()
    if not title:
        raise ValidationError({"title": _("A task needs a title.")})
    about_label, about_url = check_about(account=account, about_label=about_label, about_url=about_url)
    if account is None:
        owner = check_owner(owner, account=None)
    else:
        owner = check_owner(owner, account=account) if owner is not None else account.owner
    if about_url and owner is not None:
        # The owner's row is locked until this transaction ends, so two clicks at once take turns:
        # the second finds the task the first made.
        User.objects.select_for_update().get(pk=owner.pk)
        already = (
            Task.objects.filter(owner=owner, account=account, about_url=about_url, status=TaskStatus.OPEN)
            .order_by("created_at", "pk")
            .first()
        )
        if already is not None:
            return already
    task = Task(
        account=account,
        title=title,
        due_on=check_due_on(due_on),
        owner=owner,
        priority=priority,
        type=type,
        source=source,
        notes=notes,
        about_label=about_label,
        about_url=about_url,
        created_by=actor,
    )
    task.full_clean()
    task.save()
    record_audit(actor=actor, action="create", instance=task)
    record_event(
        kind="task.created",
        account=account,  # None for a task about no account: the event's subject is the task itself
        subject=task,
        payload={"title": task.title, "due_on": task.due_on.isoformat(), "owner_id": task.owner_id},
        actor=actor,
    )
    return task


@dataclass(frozen=True)
class NewTask:
    """One task for `create_tasks_bulk`: owned by its account's owner, as `create_task` without an owner."""

    account: Account
    title: str
    due_on: date
    priority: int = TaskPriority.NORMAL
    type: str = TaskType.OTHER
    notes: str = ""


@transaction.atomic
def create_tasks_bulk(
    *,
    tasks: Sequence[NewTask],
    source: str,
    actor: User | None = None,
    at: datetime | None = None,
) -> list[Task]:
    """Many new open tasks at once (a journey engine's batch), in the order given.

    Each is validated as `create_task` validates it and recorded as it records it (an audit entry
    and a `task.created` domain event), with one INSERT per table for them all (touchpoint.bulk:
    no save(), no signals). `at` is when they were made (default now): the tasks', audit entries'
    and events' moment. One invalid task refuses them all (ValidationError, nothing written).
    """
    if not tasks:
        return []
    if not is_registered("task.created"):  # as record_event refuses it
        raise ValueError("unknown domain event kind 'task.created'")
    at = at or timezone.now()
    today = timezone.localdate()
    # What full_clean checks in create_task, without its queries (the foreign keys are the given
    # account, its owner and the actor; the database checks them again).
    if source not in TaskSource.values:
        raise ValidationError({"source": _("Unknown task source.")})
    max_title = Task._meta.get_field("title").max_length or 200
    made: list[Task] = []
    for new in tasks:
        title = new.title.strip()
        if not title:
            raise ValidationError({"title": _("A task needs a title.")})
        if len(title) > max_title:
            raise ValidationError({"title": _("A task's title has at most 200 characters.")})
        if new.priority not in TaskPriority.values:
            raise ValidationError({"priority": _("Unknown task priority.")})
        if new.type not in TaskType.values:
            raise ValidationError({"type": _("Unknown task type.")})
        task = Task(
            account=new.account,
            title=title,
            due_on=check_due_on(new.due_on, today=today),
            owner_id=new.account.owner_id,
            priority=new.priority,
            type=new.type,
            source=source,
            notes=new.notes,
            created_by=actor,
            created_at=at,
        )
        made.append(task)
    fields = (
        "account_id",
        "title",
        "owner_id",
        "due_on",
        "priority",
        "type",
        "source",
        "notes",
        "created_by_id",
    )
    ids = insert_rows(
        Task,
        [{name: getattr(task, name) for name in fields} | {"created_at": at} for task in made],
        returning="id",
    )
    for task, pk in zip(made, ids, strict=True):
        task.pk = pk
        task._state.adding = False
    actor_id = actor.pk if actor is not None and actor.pk else None
    # As users.services.record_audit(actor=actor, action="create", instance=task) for each.
    insert_rows(
        AuditLogEntry,
        [
            {
                "actor_id": actor_id,
                "action": "create",
                "object_type": Task._meta.label_lower,
                "object_id": str(task.pk),
                "object_repr": str(task)[:255],
                "changes": {},
                "created_at": at,
            }
            for task in made
        ],
    )
    # As create_task's record_event(kind="task.created", ...) for each.
    insert_rows(
        DomainEvent,
        [
            {
                "kind": "task.created",
                "account_id": task.account_id,
                "subject_type": subject_type_of(task),
                "subject_id": task.pk,
                "payload": {
                    "title": task.title,
                    "due_on": task.due_on.isoformat(),
                    "owner_id": task.owner_id,
                },
                "actor_id": actor_id,
                "occurred_at": at,
                "created_at": at,
            }
            for task in made
        ],
    )
    return made


def _locked_open(task: Task) -> Task:
    # Only the task's row is locked: PostgreSQL refuses FOR UPDATE on the nullable side of the outer
    # join to the account (a task about no account has none).
    locked = Task.objects.select_for_update(of=("self",)).select_related("account").get(pk=task.pk)
    if locked.status != TaskStatus.OPEN:
        raise ValidationError({"status": _("This task is already closed.")})
    return locked


@transaction.atomic
def complete_task(*, task: Task, actor: User | None) -> Task:
    """Mark an open task done; it lands on the account's timeline (when it is about one)."""
    task = _locked_open(task)
    task.status = TaskStatus.DONE
    task.closed_at = timezone.now()
    task.closed_by = actor
    task.save(update_fields=["status", "closed_at", "closed_by"])
    if task.account is not None:
        record_on_timeline(
            account=task.account,
            kind="task_done",
            title=f"Task done: {task.title}",
            actor=actor,
            subject=task,
            data={"title": task.title},
        )
    record_audit(actor=actor, action="complete", instance=task)
    record_event(
        kind="task.completed", account=task.account, subject=task, payload={"title": task.title}, actor=actor
    )
    return task


@transaction.atomic
def cancel_task(*, task: Task, reason: str, actor: User | None) -> Task:
    """Cancel an open task with a reason; it lands on the account's timeline (when it is about one)."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"cancel_reason": _("Say why the task is cancelled.")})
    task = _locked_open(task)
    task.status = TaskStatus.CANCELLED
    task.cancel_reason = reason[:500]
    task.closed_at = timezone.now()
    task.closed_by = actor
    task.save(update_fields=["status", "cancel_reason", "closed_at", "closed_by"])
    if task.account is not None:
        record_on_timeline(
            account=task.account,
            kind="task_cancelled",
            title=f"Task cancelled: {task.title}",
            actor=actor,
            subject=task,
            data={"title": task.title, "reason": task.cancel_reason},
        )
    record_audit(actor=actor, action="cancel", instance=task, changes={"reason": task.cancel_reason})
    record_event(
        kind="task.cancelled",
        account=task.account,
        subject=task,
        payload={"title": task.title, "reason": task.cancel_reason},
        actor=actor,
    )
    return task


@transaction.atomic
def update_task(
    *,
    task: Task,
    actor: User | None,
    title: str = UNSET,
    owner: User | None = UNSET,
    due_on: date = UNSET,
    priority: int = UNSET,
    type: str = UNSET,
    notes: str = UNSET,
) -> Task:
    """Change an open task's plan (only the arguments given; `owner=None` leaves it unowned, except a
    task about no account, which must stay someone's).

    A closed task stays as it was closed: its history is what it was.
    """
    task = _locked_open(task)
    given: dict[str, Any] = {}
    if title is not UNSET:
        given["title"] = title.strip()
        if not given["title"]:
            raise ValidationError({"title": _("A task needs a title.")})
    if due_on is not UNSET:
        given["due_on"] = check_due_on(due_on)
    if owner is not UNSET:
        given["owner"] = owner if owner == task.owner else check_owner(owner, account=task.account)
    for name, value in (("priority", priority), ("type", type), ("notes", notes)):
        if value is not UNSET:
            given[name] = value
    changes: dict[str, list[Any]] = {}
    for name, value in given.items():
        before = getattr(task, name)
        if before != value:
            changes[name] = [_plain(before), _plain(value)]
            setattr(task, name, value)
    if not changes:
        return task
    task.full_clean(exclude=["account", "created_by", "closed_by"])
    task.save(update_fields=[name for name in EDITABLE if name in changes])
    record_audit(actor=actor, action="update", instance=task, changes=changes)
    return task


def _plain(value: Any) -> Any:
    """A value as the audit log stores it (JSON): users by id, dates as ISO text."""
    if isinstance(value, User):
        return value.pk
    if isinstance(value, date):
        return value.isoformat()
    return value
