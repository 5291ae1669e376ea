"""Task pages: the account's tasks panel, the tasks page, one task's page, and closing a task.

A task's own pages check the rules on the task (a task about an account is judged by its account, a
task about no account by whose it is: tasks/rules.py).

Every form works as a plain form post; with htmx the same views answer with the part of the page
that changed (the panel, a row). Errors are shown beside the field: a 200 to htmx (it swaps only
successful answers), a 422 to a plain post.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from touchpoint.accounts.models import Account
from touchpoint.request_types import AuthenticatedHttpRequest
from touchpoint.tasks import selectors, services
from touchpoint.tasks.forms import CancelForm, NewTaskForm, TaskFilterForm, TaskForm
from touchpoint.tasks.models import Task
from touchpoint.users.models import AuditLogEntry
from touchpoint.users.permissions import can, require

PAGE_SIZE = 100
TASK_FIELDS = ("title", "due_on", "owner", "priority", "type", "notes")


def _show_beside_fields(form: Any, error: ValidationError) -> None:
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for field, messages in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages)


def _plan(form: TaskForm) -> dict[str, Any]:
    return {name: form.cleaned_data[name] for name in TASK_FIELDS}


def _load_task(task_id: int) -> Task:
    try:
        return selectors.task_for_page(task_id)
    except Task.DoesNotExist:
        raise Http404 from None


def _error_status(request: AuthenticatedHttpRequest) -> int:
    return 200 if request.htmx else 422


# --- The account page's panel -------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def account_tasks(request: AuthenticatedHttpRequest, account_id: int) -> HttpResponse:
    """The tasks panel (loaded by htmx); its forms (action add, complete, cancel) post back here."""
    account = get_object_or_404(Account, pk=account_id)
    require(request.user, "tasks.view_task", account)
    if request.method == "GET":
        return _panel(request, account)
    require(request.user, "tasks.change_task", account)
    action = request.POST.get("action", "")
    if action == "add":
        form = TaskForm(request.POST, account=account, prefix="new")
        if form.is_valid():
            try:
                services.create_task(account=account, actor=request.user, **_plan(form))
            except ValidationError as error:
                _show_beside_fields(form, error)
            else:
                return _panel_done(request, account)
        return _panel(request, account, add_form=form, status=_error_status(request))
    if action not in ("complete", "cancel"):
        return HttpResponseBadRequest(_("Unknown action."))
    task_id = request.POST.get("task", "")
    if not task_id.isdecimal():
        return HttpResponseBadRequest(_("Choose a task of this account."))
    task = get_object_or_404(Task, pk=int(task_id), account=account)
    cancel_form = None
    try:
        if action == "complete":
            services.complete_task(task=task, actor=request.user)
        else:
            cancel_form = CancelForm(request.POST, prefix=f"cancel-{task.pk}")
            if cancel_form.is_valid():
                services.cancel_task(task=task, reason=cancel_form.cleaned_data["reason"], actor=request.user)
            else:
                return _panel(
                    request, account, cancelling=(task.pk, cancel_form), status=_error_status(request)
                )
    except ValidationError as error:
        return _panel(request, account, problem=" ".join(error.messages), status=_error_status(request))
    return _panel_done(request, account)


def _panel_done(request: AuthenticatedHttpRequest, account: Account) -> HttpResponse:
    if request.htmx:
        return _panel(request, account, saved=True)
    return redirect(reverse("account-detail", args=[account.pk]) + "#tasks-panel")


def _blank_task_form(account: Account) -> TaskForm:
    return TaskForm(account=account, prefix="new", initial={"owner": account.owner_id})


def _panel(
    request: AuthenticatedHttpRequest,
    account: Account,
    *,
    add_form: TaskForm | None = None,
    cancelling: tuple[int, CancelForm] | None = None,
    problem: str = "",
    saved: bool = False,
    status: int = 200,
) -> HttpResponse:
    open_tasks, closed = selectors.account_tasks(account)
    may_change = can(request.user, "tasks.change_task", account)
    context = {
        "account": account,
        "open_tasks": open_tasks,
        "closed_tasks": closed,
        "today": timezone.localdate(),
        "may_change": may_change,
        "add_form": (add_form or _blank_task_form(account)) if may_change else None,
        "adding": add_form is not None,
        "cancelling": cancelling,
        "problem": problem,
        "saved": saved,
    }
    # Without htmx the panel is its own page (a plain form post that needs its errors shown).
    template = "tasks/_account_tasks.html" if request.htmx or status == 200 else "tasks/account_tasks.html"
    return render(request, template, context, status=status)


# --- The tasks page -------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def tasks_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Tasks across the accounts one reads: mine and open by default; a "New task" form."""
    require(request.user, "tasks.view_task")
    new_form = None
    if request.method == "POST":
        require(request.user, "tasks.add_task")
        new_form = NewTaskForm(request.POST, user=request.user, prefix="new")
        if new_form.is_valid():
            account = new_form.cleaned_data["account"]
            require(request.user, "tasks.add_task", account)
            try:
                task = services.create_task(account=account, actor=request.user, **_plan(new_form))
            except ValidationError as error:
                _show_beside_fields(new_form, error)
            else:
                return redirect("task-detail", task_id=task.pk)
    filter_form = TaskFilterForm(request.GET, user=request.user)
    filters = filter_form.filters()
    today = timezone.localdate()
    found: QuerySet[Task] = selectors.tasks(reader=request.user, filters=filters, today=today)
    rows = list(found[:PAGE_SIZE])
    changeable = selectors.changeable_task_ids(request.user, rows)
    query = request.GET.copy()
    query.pop("sort", None)
    context = {
        "filter_form": filter_form,
        "filters": filters,
        "tasks": rows,
        "changeable": changeable,
        "more": len(rows) == PAGE_SIZE and found.count() > PAGE_SIZE,
        "today": today,
        "querystring": query.urlencode(),
        "may_add": can(request.user, "tasks.add_task"),
        "new_form": new_form or NewTaskForm(user=request.user, prefix="new"),
        "adding": new_form is not None,
    }
    if request.htmx and request.method == "GET":
        return render(request, "tasks/_task_table.html", context)
    return render(request, "tasks/tasks.html", context, status=422 if new_form is not None else 200)


# --- One task -------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def task_detail(request: AuthenticatedHttpRequest, task_id: int) -> HttpResponse:
    """One task: its plan, notes and history; the edit form while it is open."""
    task = _load_task(task_id)
    require(request.user, "tasks.view_task", task)
    form = None
    if request.method == "POST":
        require(request.user, "tasks.change_task", task)
        form = TaskForm(request.POST, task=task)
        if form.is_valid():
            try:
                services.update_task(task=task, actor=request.user, **_plan(form))
            except ValidationError as error:
                _show_beside_fields(form, error)
            else:
                return redirect("task-detail", task_id=task.pk)
    return _detail(request, task, edit_form=form, status=422 if form is not None else 200)


def _detail(
    request: AuthenticatedHttpRequest,
    task: Task,
    *,
    edit_form: TaskForm | None = None,
    cancel_form: CancelForm | None = None,
    status: int = 200,
) -> HttpResponse:
    may_change = task.is_open and can(request.user, "tasks.change_task", task)
    initial = {name: getattr(task, name) for name in TASK_FIELDS}
    history = AuditLogEntry.objects.filter(object_type="tasks.task", object_id=str(task.pk)).select_related(
        "actor"
    )
    return render(
        request,
        "tasks/task_detail.html",
        {
            "task": task,
            "today": timezone.localdate(),
            "may_change": may_change,
            "edit_form": edit_form or TaskForm(initial=initial, task=task),
            "cancel_form": cancel_form or CancelForm(),
            "history": history,
        },
        status=status,
    )


def _after_close(request: AuthenticatedHttpRequest, task: Task, view: str) -> HttpResponse:
    if request.htmx and view in ("row", "home"):
        task = selectors.task_for_page(task.pk)
        template = "tasks/_task_row.html" if view == "row" else "tasks/_home_task.html"
        return render(request, template, {"task": task, "today": timezone.localdate(), "just_closed": True})
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("task-detail", task_id=task.pk)


@login_required
@require_POST
def task_complete(request: AuthenticatedHttpRequest, task_id: int) -> HttpResponse:
    """Mark the task done (from the tasks page, the home page or the task's page)."""
    task = _load_task(task_id)
    require(request.user, "tasks.change_task", task)
    view = request.POST.get("view", "")
    try:
        task = services.complete_task(task=task, actor=request.user)
    except ValidationError as error:
        form = CancelForm({"reason": "-"})  # bound, so it can carry the error
        form.is_valid()
        form.add_error(None, error.messages)
        return _closing_failed(request, task, view, form)
    return _after_close(request, task, view)


@login_required
@require_POST
def task_cancel(request: AuthenticatedHttpRequest, task_id: int) -> HttpResponse:
    """Cancel the task with a reason (the form asks for one)."""
    task = _load_task(task_id)
    require(request.user, "tasks.change_task", task)
    view = request.POST.get("view", "")
    form = CancelForm(request.POST)
    if form.is_valid():
        try:
            task = services.cancel_task(task=task, reason=form.cleaned_data["reason"], actor=request.user)
        except ValidationError as error:
            _show_beside_fields(form, error)
        else:
            return _after_close(request, task, view)
    return _closing_failed(request, task, view, form)


def _closing_failed(
    request: AuthenticatedHttpRequest, task: Task, view: str, form: CancelForm
) -> HttpResponse:
    if request.htmx and view in ("row", "home"):
        template = "tasks/_task_row.html" if view == "row" else "tasks/_home_task.html"
        task = selectors.task_for_page(task.pk)
        context = {
            "task": task,
            "today": timezone.localdate(),
            "cancel_form": form,
            "changeable": {task.pk},  # the view required tasks.change_task on it
        }
        return render(request, template, context)
    return _detail(request, selectors.task_for_page(task.pk), cancel_form=form, status=422)
