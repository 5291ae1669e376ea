"""Every write to playbooks. Each public function is one transaction: it validates, writes, and
records the change (timeline, audit log, domain event).

Starting a playbook makes its tasks through `touchpoint.tasks.services.create_task`, so a playbook's
tasks are tasks like any other (source "playbook"); stopping one cancels its open tasks through
`cancel_task`. Rules call `start_playbook` with an occurrence key: the database keeps (account, key)
unique, so whichever caller inserts second gets `AlreadyStarted` and nothing else is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from touchpoint.accounts.models import Account
from touchpoint.accounts.services import record_on_timeline
from touchpoint.events.services import record_event
from touchpoint.playbooks.documents import PlaybookSpec, read, spec_of
from touchpoint.playbooks.models import (
    OwnerRole,
    Playbook,
    PlaybookRule,
    PlaybookRun,
    PlaybookRunStep,
    PlaybookStep,
    RunStatus,
    RunTrigger,
)
from touchpoint.tasks.models import TaskSource, TaskStatus
from touchpoint.tasks.services import cancel_task, create_task
from touchpoint.users.models import User
from touchpoint.users.roles import Role
from touchpoint.users.services import record_audit


class AlreadyRunning(ValidationError):
    """The same playbook is still running on this account."""


class AlreadyStarted(Exception):
    """This occurrence already started its playbook on this account (a rule fires once)."""

    def __init__(self, run: PlaybookRun | None) -> None:
        super().__init__("already started")
        self.run = run


@dataclass(frozen=True)
class StepDue:
    """When a step's task is due: `planned` from the anchor, `due_on` never before today."""

    planned: date
    due_on: date

    @property
    def moved(self) -> bool:
        return self.due_on != self.planned


def due_of(*, anchor_date: date, day_offset: int, today: date) -> StepDue:
    """A step's due date: anchor + offset, moved to today when that day has already passed."""
    planned = anchor_date + timedelta(days=day_offset)
    return StepDue(planned=planned, due_on=max(planned, today))


def leader_for(account: Account) -> User | None:
    """Who a "CS leader" step goes to: the owner's own leader when people have one (User.reports_to,
    when that field exists), else the first active CS leader; None leaves it to the account owner."""
    owner = account.owner
    if owner is not None and hasattr(owner, "reports_to"):
        manager = getattr(owner, "reports_to", None)
        if manager is not None and manager.is_active:
            return manager
    return User.objects.filter(groups__name=Role.CS_LEADER, is_active=True).order_by("id").first()


def _owner_of(step: PlaybookStep, account: Account, leader: User | None) -> User | None:
    if step.owner_role == OwnerRole.LEADER and leader is not None:
        return leader
    return account.owner


def _task_notes(step: PlaybookStep, playbook: Playbook, due: StepDue) -> str:
    lines = [step.notes.strip()] if step.notes.strip() else []
    if due.moved:
        lines.append(
            _("Planned for %(planned)s, which had already passed when the playbook started: due today.")
            % {"planned": due.planned.isoformat()}
        )
    lines.append(_("From the playbook “%(name)s”.") % {"name": playbook.name})
    return "\n\n".join(lines)


@dataclass(frozen=True)
class PlannedTask:
    """The task a step becomes when its playbook starts."""

    step: PlaybookStep
    due: StepDue
    owner: User | None
    notes: str


def plan_tasks(
    *, account: Account, playbook: Playbook, steps: list[PlaybookStep], anchor_date: date, today: date
) -> list[PlannedTask]:
    """What starting the playbook on `today` makes: each step's due date (anchor + offset, moved to
    today when passed), owner (a "leader" step goes to `leader_for(account)`) and notes."""
    leader = leader_for(account) if any(s.owner_role == OwnerRole.LEADER for s in steps) else None
    planned = []
    for step in steps:
        due = due_of(anchor_date=anchor_date, day_offset=step.day_offset, today=today)
        planned.append(
            PlannedTask(
                step=step,
                due=due,
                owner=_owner_of(step, account, leader),
                notes=_task_notes(step, playbook, due),
            )
        )
    return planned


@transaction.atomic
def start_playbook(
    *,
    account: Account,
    playbook: Playbook,
    actor: User | None,
    trigger: str = RunTrigger.MANUAL,
    anchor_date: date | None = None,
    occurrence_key: str | None = None,
    rule: PlaybookRule | None = None,
) -> PlaybookRun:
    """Start the playbook on the account: one task per step, due at anchor + the step's day offset
    (never before today: a passed day is moved to today, and the task's notes say so).

    With an `occurrence_key` it starts at most once per account and key, whoever calls: a second
    call raises `AlreadyStarted` and writes nothing.
    """
    if not playbook.is_active:
        raise ValidationError({"playbook": _("This playbook is switched off.")})
    if trigger not in RunTrigger.values:
        raise ValidationError({"trigger": _("Unknown trigger.")})
    steps = list(playbook.steps.order_by("position"))
    if not steps:
        raise ValidationError({"playbook": _("This playbook has no steps.")})
    # The account row is locked so that two starts of the same playbook take turns and the second
    # sees the first's run (a person double-clicking, or a rule and a person at once).
    account = Account.objects.select_for_update(of=("self",)).select_related("owner").get(pk=account.pk)
    if PlaybookRun.objects.filter(account=account, playbook=playbook, status=RunStatus.RUNNING).exists():
        raise AlreadyRunning({"playbook": _("This playbook is already running on this account.")})
    today = timezone.localdate()
    anchor = anchor_date or today
    key = (occurrence_key or "").strip()[:200]
    run = PlaybookRun(
        playbook=playbook,
        account=account,
        trigger=trigger,
        rule=rule,
        occurrence_key=key,
        anchor_date=anchor,
        started_by=actor if actor is not None and actor.pk else None,
    )
    if key:
        # The unique (account, occurrence_key) constraint is the guarantee: on PostgreSQL a second
        # transaction inserting the same key waits for the first and then fails here; on SQLite
        # writers take turns (BEGIN IMMEDIATE). The savepoint keeps the caller's transaction usable.
        try:
            with transaction.atomic():
                run.save()
        except IntegrityError:
            raise AlreadyStarted(
                PlaybookRun.objects.filter(account=account, occurrence_key=key).first()
            ) from None
    else:
        run.save()
    planned = plan_tasks(account=account, playbook=playbook, steps=steps, anchor_date=anchor, today=today)
    for item in planned:
        task = create_task(
            account=account,
            title=item.step.title,
            due_on=item.due.due_on,
            actor=actor,
            owner=item.owner,
            priority=item.step.priority,
            type=item.step.task_type,
            source=TaskSource.PLAYBOOK,
            notes=item.notes,
        )
        PlaybookRunStep.objects.create(
            run=run, step=item.step, position=item.step.position, title=item.step.title, task=task
        )
    moved = sum(1 for item in planned if item.due.moved)
    record_on_timeline(
        account=account,
        kind="playbook_started",
        title=f"Playbook started: {playbook.name}",
        actor=actor,
        subject=run,
        data={"playbook": playbook.name, "steps": len(steps), "moved_to_today": moved, "trigger": trigger},
    )
    record_audit(
        actor=actor,
        action="playbook.start",
        instance=run,
        changes={"playbook": playbook.name, "trigger": trigger, "occurrence": key},
    )
    record_event(
        kind="playbook.started",
        account=account,
        subject=run,
        actor=actor,
        payload={
            "run_id": run.pk,
            "playbook_id": playbook.pk,
            "playbook": playbook.name,
            "trigger": trigger,
            "occurrence_key": key,
            "anchor_date": anchor.isoformat(),
        },
    )
    return run


def _locked_running(run: PlaybookRun) -> PlaybookRun:
    locked = PlaybookRun.objects.select_for_update().select_related("account", "playbook").get(pk=run.pk)
    if locked.status != RunStatus.RUNNING:
        raise ValidationError(_("This playbook is no longer running."))
    return locked


@transaction.atomic
def stop_playbook(*, run: PlaybookRun, reason: str, actor: User | None) -> PlaybookRun:
    """Stop a running playbook: its open tasks are cancelled with the reason."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the playbook is stopped.")})
    run = _locked_running(run)
    reason = reason[:500]
    cancelled = 0
    for run_step in run.run_steps.select_related("task").filter(task__status=TaskStatus.OPEN):
        assert run_step.task is not None  # the filter above joined an open task
        cancel_task(task=run_step.task, reason=reason, actor=actor)
        cancelled += 1
    run.status = RunStatus.STOPPED
    run.stopped_reason = reason
    run.stopped_by = actor if actor is not None and actor.pk else None
    run.ended_at = timezone.now()
    run.save(update_fields=["status", "stopped_reason", "stopped_by", "ended_at"])
    record_on_timeline(
        account=run.account,
        kind="playbook_stopped",
        title=f"Playbook stopped: {run.playbook.name}",
        actor=actor,
        subject=run,
        data={"playbook": run.playbook.name, "reason": reason, "cancelled": cancelled},
    )
    record_audit(actor=actor, action="playbook.stop", instance=run, changes={"reason": reason})
    record_event(
        kind="playbook.stopped",
        account=run.account,
        subject=run,
        actor=actor,
        payload={"run_id": run.pk, "playbook": run.playbook.name, "reason": reason},
    )
    return run


@transaction.atomic
def complete_run_if_done(*, run: PlaybookRun) -> bool:
    """Mark a running playbook completed once none of its tasks is open; True if it just completed."""
    run = PlaybookRun.objects.select_for_update().select_related("account", "playbook").get(pk=run.pk)
    if run.status != RunStatus.RUNNING:
        return False
    if run.run_steps.filter(task__status=TaskStatus.OPEN).exists():
        return False
    done = run.run_steps.filter(task__status=TaskStatus.DONE).count()
    total = run.run_steps.count()
    run.status = RunStatus.COMPLETED
    run.ended_at = timezone.now()
    run.save(update_fields=["status", "ended_at"])
    record_on_timeline(
        account=run.account,
        kind="playbook_completed",
        title=f"Playbook completed: {run.playbook.name}",
        subject=run,
        data={"playbook": run.playbook.name, "done": done, "steps": total},
    )
    record_event(
        kind="playbook.completed",
        account=run.account,
        subject=run,
        payload={"run_id": run.pk, "playbook": run.playbook.name, "done": done, "steps": total},
    )
    return True


@transaction.atomic
def change_rule(
    *, rule: PlaybookRule, actor: User | None, playbook: Playbook | None = None, is_active: bool | None = None
) -> PlaybookRule:
    """Choose which playbook a trigger starts, or switch the rule on or off (off: it starts nothing)."""
    rule = PlaybookRule.objects.select_for_update().select_related("playbook").get(pk=rule.pk)
    changes: dict[str, list] = {}
    if playbook is not None and rule.playbook_id != playbook.pk:
        changes["playbook"] = [rule.playbook.name, playbook.name]
        rule.playbook = playbook
    if is_active is not None and rule.is_active != is_active:
        changes["is_active"] = [rule.is_active, is_active]
        rule.is_active = is_active
    if changes:
        rule.save(update_fields=["playbook", "is_active", "updated_at"])
        record_audit(actor=actor, action="playbook_rule.change", instance=rule, changes=changes)
    return rule


@transaction.atomic
def apply_playbooks(*, specs: list[PlaybookSpec], actor: User | None) -> list[tuple[Playbook, str]]:
    """Create or update playbooks by name from their YAML form; each one's steps are replaced.

    Applying the same document again changes nothing. Runs already started keep their tasks and
    their own copy of each step's title. Returns (playbook, "created" / "updated" / "unchanged").
    """
    applied = []
    for spec in specs:
        playbook, created = Playbook.objects.select_for_update().get_or_create(
            name=spec.name, defaults={"reason": spec.reason, "is_active": spec.is_active}
        )
        before = None if created else spec_of(playbook)
        if before == spec:
            applied.append((playbook, "unchanged"))
            continue
        playbook.reason = spec.reason
        playbook.is_active = spec.is_active
        playbook.save()
        playbook.steps.all().delete()
        PlaybookStep.objects.bulk_create(
            PlaybookStep(
                playbook=playbook,
                position=position,
                title=step.title,
                day_offset=step.day_offset,
                task_type=step.task_type,
                priority=step.priority,
                owner_role=step.owner_role,
                notes=step.notes,
            )
            for position, step in enumerate(spec.steps, 1)
        )
        record_audit(
            actor=actor,
            action="playbook.create" if created else "playbook.apply",
            instance=playbook,
            changes={"steps": len(spec.steps), "is_active": spec.is_active},
        )
        applied.append((playbook, "created" if created else "updated"))
    return applied


def apply_playbooks_yaml(*, text: str, actor: User | None) -> list[tuple[Playbook, str]]:
    """Check a YAML document (every problem by line, nothing applied if any) and apply it."""
    return apply_playbooks(specs=read(text), actor=actor)
