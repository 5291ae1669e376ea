"""REST API for tasks: list (filters owner, account, status, due_before), read, create, change,
complete and cancel. Every row is checked as the pages check it: a task about an account against the
account's book, a task about no account against whose it is (tasks/rules.py)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from touchpoint.accounts.models import Account
from touchpoint.accounts.schemas import Ref, UserRef
from touchpoint.api_contract import READ, WRITE, Day, Id, Page, Paging, answers, caller, page_of, require_perm
from touchpoint.tasks import selectors, services
from touchpoint.tasks.models import Task, TaskStatus
from touchpoint.tasks.schemas import StatusValue, TaskCancelIn, TaskIn, TaskOut, TaskPatch
from touchpoint.users.models import User

router = Router(tags=["tasks"])


def _user(user: User | None) -> UserRef | None:
    if user is None:
        return None
    return UserRef(id=user.pk, email=user.email, name=user.get_full_name())


def _task_out(task: Task) -> TaskOut:
    today = timezone.localdate()
    return TaskOut(
        id=task.pk,
        account=Ref(id=task.account.pk, name=task.account.name) if task.account is not None else None,
        about_label=task.about_label,
        about_url=task.about_url,
        title=task.title,
        owner=_user(task.owner),
        due_on=task.due_on,
        priority=task.priority,
        type=task.type,  # type: ignore[arg-type]
        status=task.status,  # type: ignore[arg-type]
        source=task.source,  # type: ignore[arg-type]
        notes=task.notes,
        cancel_reason=task.cancel_reason,
        overdue=task.status == TaskStatus.OPEN and task.due_on < today,
        created_by=_user(task.created_by),
        created_at=task.created_at,
        closed_at=task.closed_at,
        closed_by=_user(task.closed_by),
    )


def _load(task_id: int) -> Task:
    return get_object_or_404(
        Task.objects.select_related("account", "owner", "created_by", "closed_by"), pk=task_id
    )


def _owner(owner_id: int | None) -> User | None:
    if owner_id is None:
        return None
    owner = User.objects.filter(pk=owner_id).first()
    if owner is None:
        raise ValidationError({"owner": _("No such user: %(id)s.") % {"id": owner_id}})
    return owner


@router.get("/tasks", response=answers({200: Page[TaskOut]}, *READ), summary="List tasks")
def list_tasks(
    request: HttpRequest,
    paging: Query[Paging],
    owner: Id | None = None,
    account: Id | None = None,
    status: StatusValue | None = None,
    due_before: Day | None = None,
):
    """Tasks of the accounts the caller reads (and theirs about no account), soonest due first, as
    `{"items": [...], "count": N}`. Every status unless `status` is given; `due_before` keeps tasks
    due strictly before that day."""
    require_perm(request, "tasks.view_task")
    filters = selectors.TaskFilters(
        owner_id=owner, status=status or "", due_before=due_before, account_id=account
    )
    found = selectors.tasks(reader=request.user, filters=filters, today=timezone.localdate())
    return page_of(found, paging, _task_out)


@router.get("/tasks/{task_id}", response=answers({200: TaskOut}, *READ, 404), summary="Get a task")
def get_task(request: HttpRequest, task_id: Id):
    task = _load(task_id)
    require_perm(request, "tasks.view_task", task)
    return _task_out(task)


@router.post("/tasks", response=answers({201: TaskOut}, *WRITE), summary="Create a task")
def create_task(request: HttpRequest, body: TaskIn):
    """A new open task on the account; its owner defaults to the account's owner and must be able to
    work on the account (its book, a leader or an admin). Without an account, a task about what
    `about_label` names (linked back by `about_url`), for the `owner` given; asked again with the same
    link for the same owner while it is open, the answer is that task (a 201 all the same)."""
    account = None
    if body.account is not None:
        account = Account.objects.filter(pk=body.account).first()
        if account is None:
            raise ValidationError({"account": _("No such account: %(id)s.") % {"id": body.account}})
    require_perm(request, "tasks.add_task", account)
    task = services.create_task(
        account=account,
        actor=caller(request),
        title=body.title,
        due_on=body.due_on,
        owner=_owner(body.owner),
        priority=body.priority,
        type=body.type,
        notes=body.notes,
        about_label=body.about_label,
        about_url=body.about_url,
    )
    # The same link asked for again answers the open task already made, perhaps by someone else.
    require_perm(request, "tasks.view_task", task)
    return Status(201, _task_out(_load(task.pk)))


@router.patch("/tasks/{task_id}", response=answers({200: TaskOut}, *WRITE, 404), summary="Change a task")
def change_task(request: HttpRequest, task_id: Id, body: TaskPatch):
    """Change only the fields sent, on an open task (a closed task is a 422)."""
    task = _load(task_id)
    require_perm(request, "tasks.change_task", task)
    changes = body.model_dump(exclude_unset=True)
    for field in ("title", "due_on", "priority", "type", "notes"):
        if field in changes and changes[field] is None:
            raise ValidationError({field: _("This field cannot be null.")})
    if "owner" in changes:
        changes["owner"] = _owner(changes["owner"])
    services.update_task(task=task, actor=caller(request), **changes)
    return _task_out(_load(task_id))


@router.post(
    "/tasks/{task_id}/complete", response=answers({200: TaskOut}, *WRITE, 404), summary="Complete a task"
)
def complete_task(request: HttpRequest, task_id: Id):
    """Mark an open task done; it lands on the account's timeline, if any (a closed task is a 422)."""
    task = _load(task_id)
    require_perm(request, "tasks.change_task", task)
    services.complete_task(task=task, actor=caller(request))
    return _task_out(_load(task_id))


@router.post(
    "/tasks/{task_id}/cancel", response=answers({200: TaskOut}, *WRITE, 404), summary="Cancel a task"
)
def cancel_task(request: HttpRequest, task_id: Id, body: TaskCancelIn):
    """Cancel an open task with a reason; it lands on the account's timeline, if any."""
    task = _load(task_id)
    require_perm(request, "tasks.change_task", task)
    services.cancel_task(task=task, reason=body.reason, actor=caller(request))
    return _task_out(_load(task_id))
