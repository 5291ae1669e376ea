"""REST API for playbooks: the playbooks with their steps, and an account's runs (start, stop)."""

from __future__ import annotations

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field

from touchpoint.accounts.models import Account
from touchpoint.accounts.schemas import Ref
from touchpoint.api_contract import (
    READ,
    WRITE,
    Day,
    Id,
    Page,
    Paging,
    Strict,
    answers,
    caller,
    page_of,
    require_perm,
)
from touchpoint.playbooks import selectors, services
from touchpoint.playbooks.documents import PRIORITY_NAMES
from touchpoint.playbooks.models import Playbook, PlaybookRun, RunStatus

router = Router(tags=["playbooks"])


class StepOut(Schema):
    position: int
    title: str
    day_offset: int
    type: str
    priority: str
    owner: str
    notes: str


class PlaybookOut(Schema):
    id: int
    name: str
    reason: str
    active: bool
    steps: list[StepOut]


class RunStepOut(Schema):
    position: int
    title: str
    task: int | None
    status: str | None
    due_on: date | None


class RunOut(Schema):
    id: int
    playbook: Ref
    account: int
    trigger: str
    status: str
    anchor_date: date
    started_at: datetime
    ended_at: datetime | None
    stopped_reason: str
    done: int
    total: int
    steps: list[RunStepOut]


class RunIn(Strict):
    playbook: Id
    anchor_date: Day | None = Field(
        None,
        description="Steps fall due this many days from it; default: today (the renewal playbook: the next renewal).",
    )


class StopIn(Strict):
    reason: str = Field(min_length=1, max_length=500)


def _playbook_out(playbook: Playbook) -> PlaybookOut:
    return PlaybookOut(
        id=playbook.pk,
        name=playbook.name,
        reason=playbook.reason,
        active=playbook.is_active,
        steps=[
            StepOut(
                position=s.position,
                title=s.title,
                day_offset=s.day_offset,
                type=s.task_type,
                priority=PRIORITY_NAMES.get(s.priority, "normal"),
                owner=s.owner_role,
                notes=s.notes,
            )
            for s in playbook.steps.all()
        ],
    )


def _run_out(run: PlaybookRun) -> RunOut:
    progress = selectors.progress(run)
    return RunOut(
        id=run.pk,
        playbook=Ref(id=run.playbook_id, name=run.playbook.name),
        account=run.account_id,
        trigger=run.trigger,
        status=run.status,
        anchor_date=run.anchor_date,
        started_at=run.started_at,
        ended_at=run.ended_at,
        stopped_reason=run.stopped_reason,
        done=progress.done,
        total=progress.total,
        steps=[
            RunStepOut(
                position=s.position,
                title=s.title,
                task=s.task_id,
                status=s.task.status if s.task else None,
                due_on=s.task.due_on if s.task else None,
            )
            for s in progress.steps
        ],
    )


def _reloaded(run: PlaybookRun) -> PlaybookRun:
    return selectors.runs(account=run.account).get(pk=run.pk)


@router.get("/playbooks", response=answers({200: Page[PlaybookOut]}, *READ), summary="List playbooks")
def list_playbooks(request: HttpRequest, paging: Query[Paging]):
    """Every playbook with its steps, by name."""
    require_perm(request, "playbooks.view_playbook")
    return page_of(selectors.playbooks(), paging, _playbook_out)


@router.get(
    "/accounts/{account_id}/playbook-runs",
    response=answers({200: Page[RunOut]}, *READ, 404),
    summary="List an account's playbook runs",
)
def list_runs(
    request: HttpRequest,
    account_id: Id,
    paging: Query[Paging],
    status: RunStatus | None = None,
):
    """The playbooks started on the account, newest first, with their progress."""
    account = get_object_or_404(Account, pk=account_id)
    require_perm(request, "playbooks.view_playbookrun", account)
    return page_of(selectors.runs(account=account, status=status or ""), paging, _run_out)


@router.post(
    "/accounts/{account_id}/playbook-runs",
    response=answers({201: RunOut}, *WRITE, 404),
    summary="Start a playbook on an account",
)
def start_run(request: HttpRequest, account_id: Id, body: RunIn):
    """One task per step, each due at the anchor date plus the step's day offset (never before today)."""
    account = get_object_or_404(Account, pk=account_id)
    require_perm(request, "playbooks.add_playbookrun", account)
    playbook = Playbook.objects.filter(pk=body.playbook).first()
    if playbook is None:
        raise ValidationError({"playbook": _("No such record: %(id)s.") % {"id": body.playbook}})
    anchor = body.anchor_date or selectors.default_anchor(account=account, playbook=playbook)
    run = services.start_playbook(
        account=account, playbook=playbook, actor=caller(request), anchor_date=anchor
    )
    return Status(201, _run_out(_reloaded(run)))


@router.post(
    "/accounts/{account_id}/playbook-runs/{run_id}/stop",
    response=answers({200: RunOut}, *WRITE, 404),
    summary="Stop a running playbook",
)
def stop_run(request: HttpRequest, account_id: Id, run_id: Id, body: StopIn):
    """Its open tasks are cancelled with the reason."""
    account = get_object_or_404(Account, pk=account_id)
    run = get_object_or_404(PlaybookRun, pk=run_id, account=account)
    require_perm(request, "playbooks.change_playbookrun", run)
    run = services.stop_playbook(run=run, reason=body.reason, actor=caller(request))
    return _run_out(_reloaded(run))
