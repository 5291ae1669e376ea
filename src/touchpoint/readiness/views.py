"""Readiness pages: the list of maps, a new map (from the template or another map), the map's grid
(a heat map of status by stage and function, with its KPIs and open gaps), one touchpoint (checklist,
status, comments, links, history, a task for its owner), the exports and the uptime months.

Every form posts back to its page with an `action`. Errors are shown beside the field with a 422; a
write that succeeds redirects (so a reload never posts twice).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from touchpoint.readiness import library, selectors, services
from touchpoint.readiness.forms import (
    MAP_PREFIX,
    TEMPLATE_PREFIX,
    AnswerForm,
    CommentForm,
    FunctionForm,
    LinkForm,
    MapForm,
    NewMapForm,
    NewTouchpointForm,
    QuestionForm,
    RowForm,
    StatusForm,
    TaskForm,
    TouchpointForm,
    UptimeForm,
)
from touchpoint.readiness.kpis import KpiContext, cells
from touchpoint.readiness.models import (
    ChecklistItem,
    Function,
    ReadinessMap,
    Stage,
    Status,
    Touchpoint,
    TouchpointLink,
    UptimeMonth,
)
from touchpoint.request_types import AuthenticatedHttpRequest
from touchpoint.users.permissions import can, permission_required, require
from touchpoint.web.form_errors import show_beside_fields


class _Invalid(Exception):
    """A form that did not pass (its own checks or the service's): the page is shown again with it."""

    def __init__(self, key: str, form: Any) -> None:
        self.key, self.form = key, form


def _valid(key: str, form: Any) -> dict[str, Any]:
    if not form.is_valid():
        raise _Invalid(key, form)
    return form.cleaned_data


def _call(key: str, form: Any, write: Callable[[], Any]) -> Any:
    try:
        return write()
    except ValidationError as error:
        show_beside_fields(form, error)
        raise _Invalid(key, form) from None


def _posted_id(request: HttpRequest, name: str = "item") -> int:
    value = request.POST.get(name, "")
    if not value.isdecimal() or len(value) > 18:
        raise ValidationError(_("Choose an item of this map."))
    return int(value)


# --- the list and a new map -------------------------------------------------------------------------


@permission_required("readiness.view_readinessmap")
@require_GET
def maps_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Every map with how ready it is; archived maps on request."""
    archived = request.GET.get("archived") == "1"
    return render(
        request,
        "readiness/maps.html",
        {
            "maps": selectors.map_list(archived=archived),
            "archived": archived,
            "may_create": can(request.user, "readiness.add_readinessmap"),
        },
    )


def _start_from(choice: str, language: str) -> Any:
    if choice.startswith(TEMPLATE_PREFIX):
        try:
            return library.template(choice.removeprefix(TEMPLATE_PREFIX), language)
        except KeyError:
            raise ValidationError({"start_from": _("Choose one of the offered starts.")}) from None
    if choice.startswith(MAP_PREFIX):
        other = ReadinessMap.objects.filter(pk=choice.removeprefix(MAP_PREFIX)).first()
        if other is None:
            raise ValidationError({"start_from": _("Choose one of the offered starts.")})
        return services.shape_of(other, with_answers=False)
    return None


@permission_required("readiness.add_readinessmap")
@require_http_methods(["GET", "POST"])
def new_map(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A new map for a product or a launch, its grid from the template (in the reader's language) or
    from another map, without that map's answers."""
    language = translation.get_language() or "en"
    if request.method == "GET":
        form = NewMapForm(
            language=language, initial={"owner": request.user.pk, "start_from": f"{TEMPLATE_PREFIX}standard"}
        )
        return render(request, "readiness/new_map.html", {"form": form})
    form = NewMapForm(request.POST, language=language)
    if form.is_valid():
        data = form.cleaned_data
        try:
            readiness_map = services.create_map(
                name=data["name"],
                kind=data["kind"],
                product=data["product"],
                description=data["description"],
                launch_on=data["launch_on"],
                owner=data["owner"] or request.user,
                actor=request.user,
                start_from=_start_from(data["start_from"], language),
            )
        except ValidationError as error:
            show_beside_fields(form, error)
        else:
            return redirect(reverse("readiness-map", args=[readiness_map.pk]))
    return render(request, "readiness/new_map.html", {"form": form}, status=422)


# --- one map ----------------------------------------------------------------------------------------


def _filters(request: HttpRequest) -> dict[str, Any]:
    status = request.GET.get("status", "")
    return {
        "function": request.GET.get("function", "")[:64],
        "owner": request.GET.get("owner", "")[:20],
        "status": status if status in Status.values else "",
        "overdue_only": request.GET.get("overdue") == "1",
    }


def _map_page(
    request: AuthenticatedHttpRequest,
    readiness_map: ReadinessMap,
    *,
    bound: dict[str, Any] | None = None,
    problem: str = "",
    status: int = 200,
) -> HttpResponse:
    bound = bound or {}
    filters = _filters(request)
    grid = selectors.map_grid(readiness_map, **filters)
    may_shape = can(request.user, "readiness.change_readinessmap", readiness_map)
    context = KpiContext(product=readiness_map.product, today=grid.today)
    forms: dict[str, Any] = {}
    if may_shape:
        forms = {
            "details": bound.get("details")
            or MapForm(
                prefix="details",
                initial={
                    "name": readiness_map.name,
                    "kind": readiness_map.kind,
                    "product": readiness_map.product,
                    "launch_on": readiness_map.launch_on,
                    "owner": readiness_map.owner_id,
                    "description": readiness_map.description,
                },
            ),
            "stage": bound.get("add-stage") or RowForm(prefix="add-stage"),
            "function": bound.get("add-function") or FunctionForm(prefix="add-function"),
            "touchpoint": bound.get("add-touchpoint")
            or NewTouchpointForm(prefix="add-touchpoint", readiness_map=readiness_map),
        }
        for stage in grid.stages:
            stage.form = bound.get(f"stage-{stage.pk}") or RowForm(  # type: ignore[attr-defined]
                prefix=f"stage-{stage.pk}", initial={"name": stage.name}
            )
        for row in grid.rows:
            row.function.form = bound.get(f"function-{row.function.pk}") or FunctionForm(  # type: ignore[attr-defined]
                prefix=f"function-{row.function.pk}",
                initial={"name": row.function.name, "lead": row.function.lead_id},
            )
    serving = selectors.serving_by_touchpoint(readiness_map)
    for row in grid.rows:
        for cell in row.cells:
            for tp in cell.touchpoints:
                tp.serves = sorted(serving.get(tp.pk, ()))  # type: ignore[attr-defined]
    all_functions = list(readiness_map.functions.values_list("key", "name"))
    return render(
        request,
        "readiness/map.html",
        {
            "map": readiness_map,
            "grid": grid,
            "kpis": [(stage, cells(stage.key, context, request.user)) for stage in grid.stages],
            "filters": filters,
            "all_functions": all_functions,
            "statuses": Status.choices,
            "nobody": selectors.NOBODY,
            "may_shape": may_shape,
            "forms": forms,
            "problem": problem,
        },
        status=status,
    )


@permission_required("readiness.view_readinessmap")
@require_http_methods(["GET", "POST"])
def map_page(request: AuthenticatedHttpRequest, map_id: int) -> HttpResponse:
    readiness_map = get_object_or_404(ReadinessMap.objects.select_related("owner"), pk=map_id)
    if request.method == "GET":
        return _map_page(request, readiness_map)
    require(request.user, "readiness.change_readinessmap", readiness_map)
    handler = _MAP_ACTIONS.get(request.POST.get("action", ""))
    if handler is None:
        return HttpResponseBadRequest(_("Unknown action."))
    try:
        outcome = handler(request, readiness_map)
    except _Invalid as invalid:
        return _map_page(request, readiness_map, bound={invalid.key: invalid.form}, status=422)
    except ValidationError as error:
        return _map_page(request, readiness_map, problem=" ".join(error.messages), status=422)
    if isinstance(outcome, Touchpoint):
        return redirect(reverse("readiness-touchpoint", args=[outcome.pk]))
    return redirect(reverse("readiness-map", args=[readiness_map.pk]))


def _details(request: AuthenticatedHttpRequest, readiness_map: ReadinessMap) -> Any:
    form = MapForm(request.POST, prefix="details")
    data = _valid("details", form)
    return _call(
        "details", form, lambda: services.update_map(readiness_map=readiness_map, actor=request.user, **data)
    )


def _archive(request: AuthenticatedHttpRequest, readiness_map: ReadinessMap) -> Any:
    services.archive_map(
        readiness_map=readiness_map, actor=request.user, archived=request.POST.get("archived") != "0"
    )


def _add_row(kind: str) -> Callable[[AuthenticatedHttpRequest, ReadinessMap], Any]:
    def handler(request: AuthenticatedHttpRequest, readiness_map: ReadinessMap) -> Any:
        key = f"add-{kind}"
        form = (
            RowForm(request.POST, prefix=key) if kind == "stage" else FunctionForm(request.POST, prefix=key)
        )
        data = _valid(key, form)

        return _call(
            key,
            form,
            lambda: services.add_row(
                readiness_map=readiness_map,
                kind=kind,
                name=data["name"],
                lead=data.get("lead"),
                actor=request.user,
            ),
        )

    return handler


def _row(request: AuthenticatedHttpRequest, readiness_map: ReadinessMap) -> Stage | Function:
    model: type[Stage] | type[Function] = Stage if request.POST.get("kind") == "stage" else Function
    row = get_object_or_404(model.objects.filter(map=readiness_map), pk=_posted_id(request))
    return cast(Stage | Function, row)


def _change_row(request: AuthenticatedHttpRequest, readiness_map: ReadinessMap) -> Any:
    row = _row(request, readiness_map)
    kind = "stage" if isinstance(row, Stage) else "function"
    key = f"{kind}-{row.pk}"
    form = RowForm(request.POST, prefix=key) if kind == "stage" else FunctionForm(request.POST, prefix=key)
    data = _valid(key, form)
    return _call(
        key,
        form,
        lambda: services.rename_row(
            row=row, name=data["name"], lead=data.get("lead"), set_lead=kind == "function", actor=request.user
        ),
    )


def _remove_row(request: AuthenticatedHttpRequest, readiness_map: ReadinessMap) -> Any:
    services.remove_row(row=_row(request, readiness_map), actor=request.user)


def _add_touchpoint(request: AuthenticatedHttpRequest, readiness_map: ReadinessMap) -> Any:
    form = NewTouchpointForm(request.POST, prefix="add-touchpoint", readiness_map=readiness_map)
    data = _valid("add-touchpoint", form)
    return _call(
        "add-touchpoint",
        form,
        lambda: services.add_touchpoint(
            readiness_map=readiness_map,
            stage=Stage.objects.get(pk=data["stage"], map=readiness_map),
            function=Function.objects.get(pk=data["function"], map=readiness_map),
            name=data["name"],
            description=data["description"],
            owner=data["owner"],
            due_on=data["due_on"],
            questions=data["questions"].splitlines(),
            actor=request.user,
        ),
    )


_MAP_ACTIONS: dict[str, Callable[[AuthenticatedHttpRequest, ReadinessMap], Any]] = {
    "details": _details,
    "archive": _archive,
    "add-stage": _add_row("stage"),
    "add-function": _add_row("function"),
    "change-row": _change_row,
    "remove-row": _remove_row,
    "add-touchpoint": _add_touchpoint,
}


# --- one touchpoint ---------------------------------------------------------------------------------


def _touchpoint_page(
    request: AuthenticatedHttpRequest,
    touchpoint: Touchpoint,
    *,
    bound: dict[str, Any] | None = None,
    problem: str = "",
    status: int = 200,
) -> HttpResponse:
    bound = bound or {}
    page = selectors.touchpoint_page(touchpoint)
    may_answer = can(request.user, "readiness.change_touchpoint", touchpoint)
    may_shape = can(request.user, "readiness.change_readinessmap", touchpoint.map)
    forms: dict[str, Any] = {}
    if may_answer:
        for item in page.checklist:
            item.form = bound.get(f"answer-{item.pk}") or AnswerForm(  # type: ignore[attr-defined]
                prefix=f"answer-{item.pk}",
                initial={"answer": item.answer, "evidence_url": item.evidence_url, "note": item.note},
            )
        forms = {
            "status": bound.get("status")
            or StatusForm(
                prefix="status", initial={"status": touchpoint.status, "reason": touchpoint.status_reason}
            ),
            "link": bound.get("link") or LinkForm(prefix="link"),
            "task": bound.get("task") or TaskForm(prefix="task", initial={"due_on": touchpoint.due_on}),
        }
    if may_shape:
        forms["details"] = bound.get("details") or TouchpointForm(
            prefix="details",
            readiness_map=touchpoint.map,
            initial={
                "name": touchpoint.name,
                "stage": touchpoint.stage_id,
                "function": touchpoint.function_id,
                "owner": touchpoint.owner_id,
                "due_on": touchpoint.due_on,
                "description": touchpoint.description,
            },
        )
        forms["question"] = bound.get("add-question") or QuestionForm(prefix="add-question")
    if can(request.user, "readiness.add_touchpointcomment", touchpoint):
        forms["comment"] = bound.get("comment") or CommentForm(prefix="comment")
    return render(
        request,
        "readiness/touchpoint.html",
        {
            "page": page,
            "touchpoint": touchpoint,
            "map": touchpoint.map,
            "task": services.open_task_of(touchpoint),
            "may_answer": may_answer,
            "may_shape": may_shape,
            "forms": forms,
            "problem": problem,
        },
        status=status,
    )


@permission_required("readiness.view_readinessmap")
@require_http_methods(["GET", "POST"])
def touchpoint_page(request: AuthenticatedHttpRequest, touchpoint_id: int) -> HttpResponse:
    touchpoint = get_object_or_404(
        Touchpoint.objects.select_related("map", "stage", "function__lead", "owner"), pk=touchpoint_id
    )
    if request.method == "GET":
        return _touchpoint_page(request, touchpoint)
    action = request.POST.get("action", "")
    handler, permission, on_map = _TOUCHPOINT_ACTIONS.get(action, (None, "", False))
    if handler is None:
        return HttpResponseBadRequest(_("Unknown action."))
    require(request.user, permission, touchpoint.map if on_map else touchpoint)
    try:
        handler(request, touchpoint)
    except _Invalid as invalid:
        return _touchpoint_page(request, touchpoint, bound={invalid.key: invalid.form}, status=422)
    except ValidationError as error:
        return _touchpoint_page(request, touchpoint, problem=" ".join(error.messages), status=422)
    if action == "remove":
        return redirect(reverse("readiness-map", args=[touchpoint.map_id]))
    return redirect(reverse("readiness-touchpoint", args=[touchpoint.pk]))


def _touchpoint_details(request: AuthenticatedHttpRequest, touchpoint: Touchpoint) -> Any:
    form = TouchpointForm(request.POST, prefix="details", readiness_map=touchpoint.map)
    data = _valid("details", form)
    data["stage"] = Stage.objects.get(pk=data["stage"], map=touchpoint.map)
    data["function"] = Function.objects.get(pk=data["function"], map=touchpoint.map)
    return _call(
        "details", form, lambda: services.update_touchpoint(touchpoint=touchpoint, actor=request.user, **data)
    )


def _answer(request: AuthenticatedHttpRequest, touchpoint: Touchpoint) -> Any:
    item = get_object_or_404(ChecklistItem, pk=_posted_id(request), touchpoint=touchpoint)
    key = f"answer-{item.pk}"
    form = AnswerForm(request.POST, prefix=key)
    data = _valid(key, form)
    return _call(key, form, lambda: services.answer_question(item=item, actor=request.user, **data))


def _add_question(request: AuthenticatedHttpRequest, touchpoint: Touchpoint) -> Any:
    form = QuestionForm(request.POST, prefix="add-question")
    data = _valid("add-question", form)
    return _call(
        "add-question",
        form,
        lambda: services.add_question(touchpoint=touchpoint, question=data["question"], actor=request.user),
    )


def _remove_question(request: AuthenticatedHttpRequest, touchpoint: Touchpoint) -> Any:
    item = get_object_or_404(ChecklistItem, pk=_posted_id(request), touchpoint=touchpoint)
    services.remove_question(item=item, actor=request.user)


def _set_status(request: AuthenticatedHttpRequest, touchpoint: Touchpoint) -> Any:
    form = StatusForm(request.POST, prefix="status")
    data = _valid("status", form)
    return _call(
        "status",
        form,
        lambda: services.set_status_by_hand(
            touchpoint=touchpoint, status=data["status"], reason=data["reason"], actor=request.user
        ),
    )


def _clear_status(request: AuthenticatedHttpRequest, touchpoint: Touchpoint) -> Any:
    services.clear_status_by_hand(touchpoint=touchpoint, actor=request.user)


def _comment(request: AuthenticatedHttpRequest, touchpoint: Touchpoint) -> Any:
    form = CommentForm(request.POST, prefix="comment")
    data = _valid("comment", form)
    return _call(
        "comment",
        form,
        lambda: services.add_comment(touchpoint=touchpoint, body=data["body"], actor=request.user),
    )


def _link(request: AuthenticatedHttpRequest, touchpoint: Touchpoint) -> Any:
    form = LinkForm(request.POST, prefix="link")
    _valid("link", form)
    kind, target = form.kind_and_target()
    return _call(
        "link",
        form,
        lambda: services.link(touchpoint=touchpoint, kind=kind, target=target, actor=request.user),
    )


def _unlink(request: AuthenticatedHttpRequest, touchpoint: Touchpoint) -> Any:
    row = get_object_or_404(TouchpointLink, pk=_posted_id(request), touchpoint=touchpoint)
    services.unlink(link_row=row, actor=request.user)


def _task(request: AuthenticatedHttpRequest, touchpoint: Touchpoint) -> Any:
    form = TaskForm(request.POST, prefix="task")
    data = _valid("task", form)
    return _call(
        "task",
        form,
        lambda: services.make_task(
            touchpoint=touchpoint,
            due_on=data["due_on"],
            url=reverse("readiness-touchpoint", args=[touchpoint.pk]),
            actor=request.user,
        ),
    )


def _remove(request: AuthenticatedHttpRequest, touchpoint: Touchpoint) -> Any:
    services.remove_touchpoint(touchpoint=touchpoint, actor=request.user)


# action → (handler, permission, whether the permission is on the map rather than the touchpoint)
_TOUCHPOINT_ACTIONS: dict[str, tuple[Callable[[AuthenticatedHttpRequest, Touchpoint], Any], str, bool]] = {
    "details": (_touchpoint_details, "readiness.change_readinessmap", True),
    "add-question": (_add_question, "readiness.change_readinessmap", True),
    "remove-question": (_remove_question, "readiness.change_readinessmap", True),
    "remove": (_remove, "readiness.change_readinessmap", True),
    "answer": (_answer, "readiness.change_touchpoint", False),
    "status": (_set_status, "readiness.change_touchpoint", False),
    "clear-status": (_clear_status, "readiness.change_touchpoint", False),
    "link": (_link, "readiness.change_touchpoint", False),
    "unlink": (_unlink, "readiness.change_touchpoint", False),
    "task": (_task, "readiness.change_touchpoint", False),
    "comment": (_comment, "readiness.add_touchpointcomment", False),
}


# --- uptime -----------------------------------------------------------------------------------------


@permission_required("readiness.view_readinessmap")
@require_http_methods(["GET", "POST"])
def uptime_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Uptime per product and month: typed in here, or posted by a monitoring tool to the API."""
    may_record = can(request.user, "readiness.add_uptimemonth")
    form = UptimeForm(initial={"month": timezone.localdate().replace(day=1)}) if may_record else None
    status = 200
    if request.method == "POST":
        require(request.user, "readiness.add_uptimemonth")
        form = UptimeForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.record_uptime(
                    product=data["product"],
                    month=data["month"],
                    uptime_percent=data["uptime_percent"],
                    source=_("typed in"),
                    actor=request.user,
                )
            except ValidationError as error:
                show_beside_fields(form, error)
            else:
                return redirect(reverse("readiness-uptime"))
        status = 422
    months = UptimeMonth.objects.select_related("recorded_by").order_by("product", "-month")[:240]
    return render(request, "readiness/uptime.html", {"months": months, "form": form}, status=status)
