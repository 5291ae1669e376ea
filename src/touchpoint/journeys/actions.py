"""The effects a journey applies inside the database: tasks, playbooks, phases, attributes, tags.

The engine calls `apply` inside the transaction that moves the enrollment on and writes the effect's
outbox row, so the step, its row and what it did land together or not at all. Each action goes
through the owning app's service (tasks, playbooks, success, accounts), with their timeline and
audit entries, as a person's action would. An action that cannot run raises: the engine fails that
one enrollment with the error and goes on with the others.

The engine's batches make their tasks with one `create_tasks_bulk` per batch (the task `new_task`
describes, recorded as `create_task` records it); `apply` makes one with `create_task`.

Emails, in-app messages and webhooks leave the database: their rows stay pending for the senders
(journeys/delivery.py), and `apply` is never called for them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from touchpoint.journeys.definition import JourneyDefinition
from touchpoint.journeys.interpreter import Effect
from touchpoint.journeys.models import Enrollment, OutboxStatus

if TYPE_CHECKING:
    from touchpoint.tasks.services import NewTask

# Effects that change what conditions read of the account (its tags, attributes, phase, playbooks):
# the engine's batches read an account again after one of these.
ACCOUNT_WRITES = frozenset({"playbook", "set_phase", "set_attribute", "tag"})

TASK_PRIORITIES = {"high": 1, "normal": 2, "low": 3}  # tasks.TaskPriority's values
DEFAULT_DUE_IN_DAYS = 3


class ActionFailed(Exception):
    """An action that cannot run (a playbook or phase that no longer exists…): the enrollment fails."""


@dataclass
class Applied:
    status: str = OutboxStatus.SENT
    reason: str = ""  # why it was not applied (status suppressed)
    result: dict[str, Any] = field(default_factory=dict)  # ids of what it made, kept in the row's payload


def apply(*, effect: Effect, enrollment: Enrollment, definition: JourneyDefinition, now: datetime) -> Applied:
    handler = _HANDLERS.get(effect.kind)
    if handler is None:
        raise ActionFailed(f"no action applies a {effect.kind!r} effect")
    return handler(effect, enrollment, definition, now)


def task_title(effect: Effect, definition: JourneyDefinition) -> str:
    """A task's title: the step's; for a `by_engagement` message, its task_title or the message's subject."""
    params = effect.params
    if not params.get("from_message"):
        return str(params.get("title") or "")
    if params.get("title"):
        return str(params["title"])
    message = definition.messages.get(str(params.get("message") or ""), {})
    english = message.get("en")
    subject = english.subject if english is not None else ""
    return subject or f"Follow up: {params.get('message') or definition.name}"


def new_task(effect: Effect, enrollment: Enrollment, definition: JourneyDefinition, now: datetime) -> NewTask:
    """The task a `task` effect makes (for `create_task`, or `create_tasks_bulk` in the engine's batches)."""
    from touchpoint.tasks.services import NewTask

    params = effect.params
    journey = definition.name
    notes = str(params.get("notes") or "")
    notes = f"{notes}\n\n" if notes else ""
    if params.get("from_message"):
        notes += f"Instead of (or beside) the message “{params.get('message')}” of the journey {journey}."
    else:
        notes += f"From the journey {journey}."
    due_in = int(params.get("due_in_days", DEFAULT_DUE_IN_DAYS))
    return NewTask(
        account=enrollment.account,
        title=task_title(effect, definition)[:200],
        due_on=timezone.localdate(now) + timedelta(days=due_in),
        priority=TASK_PRIORITIES.get(str(params.get("priority") or "normal"), 2),
        type=str(params.get("task_type") or "other"),
        notes=notes,
    )


def _task(effect: Effect, enrollment: Enrollment, definition: JourneyDefinition, now: datetime) -> Applied:
    from touchpoint.tasks.models import TaskSource
    from touchpoint.tasks.services import create_task

    new = new_task(effect, enrollment, definition, now)
    task = create_task(
        account=new.account,
        title=new.title,
        due_on=new.due_on,
        actor=None,
        priority=new.priority,
        type=new.type,
        source=TaskSource.JOURNEY,
        notes=new.notes,
    )
    return Applied(result={"task_id": task.pk})


def _playbook(
    effect: Effect, enrollment: Enrollment, definition: JourneyDefinition, now: datetime
) -> Applied:
    from touchpoint.playbooks.models import Playbook, RunTrigger
    from touchpoint.playbooks.services import AlreadyRunning, AlreadyStarted, start_playbook

    name = str(effect.params.get("playbook") or "")
    playbook = Playbook.objects.filter(name=name).first()
    if playbook is None:
        raise ActionFailed(f"there is no playbook named {name!r}")
    try:
        run = start_playbook(
            account=enrollment.account,
            playbook=playbook,
            actor=None,
            trigger=RunTrigger.JOURNEY,
            occurrence_key=f"journey:{enrollment.pk}:{effect.step_id}",
        )
    except AlreadyRunning:
        return Applied(status=OutboxStatus.SUPPRESSED, reason="already_running")
    except AlreadyStarted:
        return Applied(status=OutboxStatus.SUPPRESSED, reason="already_started")
    return Applied(result={"run_id": run.pk})


def _set_phase(
    effect: Effect, enrollment: Enrollment, definition: JourneyDefinition, now: datetime
) -> Applied:
    from touchpoint.success.selectors import phase_named
    from touchpoint.success.services import place_account

    name = str(effect.params.get("phase") or "")
    phase = phase_named(name, account_id=enrollment.account_id)
    if phase is None:
        raise ActionFailed(f"there is no lifecycle phase named {name!r}")
    place_account(account=enrollment.account, actor=None, phase=phase)
    return Applied(result={"phase_id": phase.pk})


def _set_attribute(
    effect: Effect, enrollment: Enrollment, definition: JourneyDefinition, now: datetime
) -> Applied:
    from touchpoint.accounts.services import set_account_attribute

    set_account_attribute(
        account=enrollment.account,
        name=str(effect.params.get("name") or ""),
        value=effect.params.get("value"),
        actor=None,
    )
    return Applied()


def _tag(effect: Effect, enrollment: Enrollment, definition: JourneyDefinition, now: datetime) -> Applied:
    from touchpoint.accounts.services import tag_account, untag_account

    name = str(effect.params.get("tag") or "")
    if effect.params.get("remove"):
        untag_account(account=enrollment.account, name=name, actor=None)
    else:
        tag_account(account=enrollment.account, name=name, actor=None)
    return Applied()


def _survey(effect: Effect, enrollment: Enrollment, definition: JourneyDefinition, now: datetime) -> Applied:
    # No surveys app yet: the validator refuses survey steps, so this only meets an old definition.
    return Applied(status=OutboxStatus.SUPPRESSED, reason="no_surveys")


_HANDLERS = {
    "task": _task,
    "playbook": _playbook,
    "set_phase": _set_phase,
    "set_attribute": _set_attribute,
    "tag": _tag,
    "survey": _survey,
}


def describe_error(error: Exception) -> str:
    """The error as the enrollment's exit reason (a service's ValidationError as its messages)."""
    if isinstance(error, ValidationError):
        text = "; ".join(str(message) for message in error.messages)
    else:
        text = str(error) or type(error).__name__
    return text[:280]
