"""Reads of readiness maps the pages, the PDF, the CSV and the API share.

    maps = map_list()                                     # every map with its counts by status
    grid = map_grid(readiness_map, function="legal", status="gap")
    page = touchpoint_page(touchpoint)                    # checklist, comments, links, history

The grid is a heat map: one cell per stage × function, coloured by the worst status in it, so the gaps
stand out at a glance; the counts say how many of each.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from touchpoint.readiness.models import (
    Answer,
    ChecklistItem,
    Function,
    ReadinessMap,
    Stage,
    Status,
    Touchpoint,
    TouchpointComment,
    TouchpointLink,
)
from touchpoint.readiness.status import is_overdue
from touchpoint.users.models import AuditLogEntry, User

# Worst first: a cell takes the colour of the worst status it holds.
SEVERITY = (Status.GAP, Status.AT_RISK, Status.READY, Status.NOT_APPLICABLE)
NOBODY = "none"  # the owner filter's value for touchpoints nobody answers for


@dataclass
class StatusCounts:
    ready: int = 0
    at_risk: int = 0
    gap: int = 0
    not_applicable: int = 0
    overdue: int = 0

    @property
    def total(self) -> int:
        return self.ready + self.at_risk + self.gap + self.not_applicable

    @property
    def applicable(self) -> int:
        return self.total - self.not_applicable

    @property
    def ready_percent(self) -> int | None:
        """Share of the applicable touchpoints that are ready (None when none apply)."""
        return round(100 * self.ready / self.applicable) if self.applicable else None

    def add(self, touchpoint: Touchpoint, *, overdue: bool) -> None:
        setattr(self, touchpoint.status, getattr(self, touchpoint.status) + 1)
        self.overdue += int(overdue)

    def as_dict(self) -> dict[str, int]:
        return {
            "ready": self.ready,
            "at_risk": self.at_risk,
            "gap": self.gap,
            "not_applicable": self.not_applicable,
            "overdue": self.overdue,
            "total": self.total,
        }


@dataclass
class Cell:
    stage: Stage
    function: Function
    touchpoints: list[Touchpoint] = field(default_factory=list)
    counts: StatusCounts = field(default_factory=StatusCounts)

    @property
    def worst(self) -> str:
        """The status that colours the cell; "empty" for a cell without touchpoints."""
        present = {touchpoint.status for touchpoint in self.touchpoints}
        return next((status.value for status in SEVERITY if status in present), "empty")


@dataclass
class Row:
    function: Function
    cells: list[Cell]
    counts: StatusCounts = field(default_factory=StatusCounts)


@dataclass
class Grid:
    readiness_map: ReadinessMap
    stages: list[Stage]
    rows: list[Row]
    stage_counts: list[StatusCounts]
    counts: StatusCounts
    # The open work, worst first: gaps, then at risk; each with who answers for it.
    open_touchpoints: list[Touchpoint]
    overdue: list[Touchpoint]
    owners: list[User]
    filtered: bool
    today: date

    @property
    def columns(self) -> list[tuple[Stage, StatusCounts]]:
        return list(zip(self.stages, self.stage_counts, strict=True))


def _annotated_counts(queryset: QuerySet[ReadinessMap]) -> QuerySet[ReadinessMap]:
    return queryset.annotate(
        touchpoint_count=Count("touchpoints", distinct=True),
        applicable_count=Count(
            "touchpoints", filter=~Q(touchpoints__status=Status.NOT_APPLICABLE), distinct=True
        ),
        ready_count=Count("touchpoints", filter=Q(touchpoints__status=Status.READY), distinct=True),
        at_risk_count=Count("touchpoints", filter=Q(touchpoints__status=Status.AT_RISK), distinct=True),
        gap_count=Count("touchpoints", filter=Q(touchpoints__status=Status.GAP), distinct=True),
        overdue_count=Count(
            "touchpoints",
            filter=Q(touchpoints__due_on__lt=timezone.localdate())
            & Q(touchpoints__status__in=[Status.GAP, Status.AT_RISK]),
            distinct=True,
        ),
    )


def map_list(*, archived: bool = False) -> QuerySet[ReadinessMap]:
    """Every map (the archived ones apart) with its counts by status, launches first by date."""
    return (
        _annotated_counts(ReadinessMap.objects.filter(archived_at__isnull=not archived))
        .select_related("owner")
        .order_by("launch_on", "name", "id")
    )


def _touchpoints(readiness_map: ReadinessMap) -> list[Touchpoint]:
    return list(
        Touchpoint.objects.filter(map=readiness_map)
        .select_related("owner", "function__lead", "stage")
        .annotate(
            question_count=Count("checklist", distinct=True),
            answered_count=Count("checklist", filter=~Q(checklist__answer=""), distinct=True),
            link_count=Count("links", distinct=True),
        )
        .order_by("position", "id")
    )


def _matches(touchpoint: Touchpoint, *, owner: str, status: str, overdue_only: bool, today: date) -> bool:
    if status and touchpoint.status != status:
        return False
    if owner:
        answerer = touchpoint.owner_id or touchpoint.function.lead_id
        if owner == NOBODY:
            if answerer is not None:
                return False
        elif str(answerer) != owner:
            return False
    return not overdue_only or is_overdue(status=touchpoint.status, due_on=touchpoint.due_on, today=today)


def map_grid(
    readiness_map: ReadinessMap,
    *,
    function: str = "",
    owner: str = "",
    status: str = "",
    overdue_only: bool = False,
    today: date | None = None,
) -> Grid:
    """The map as a grid, filtered by function key, owner (a user id, or "none") and status. Rows of
    other functions are left out; cells keep their place so the columns still line up."""
    today = today or timezone.localdate()
    stages = list(Stage.objects.filter(map=readiness_map).order_by("position", "id"))
    functions = list(
        Function.objects.filter(map=readiness_map).select_related("lead").order_by("position", "id")
    )
    everything = _touchpoints(readiness_map)
    owners = sorted(
        {user.pk: user for tp in everything if (user := tp.owner or tp.function.lead) is not None}.values(),
        key=lambda user: str(user).lower(),
    )
    shown = [
        tp
        for tp in everything
        if (not function or tp.function.key == function)
        and _matches(tp, owner=owner, status=status, overdue_only=overdue_only, today=today)
    ]
    cells: dict[tuple[int, int], Cell] = {}
    rows = []
    for row_function in functions:
        if function and row_function.key != function:
            continue
        row = Row(row_function, [Cell(stage, row_function) for stage in stages])
        for cell in row.cells:
            cells[(cell.stage.pk, row_function.pk)] = cell
        rows.append(row)
    by_stage = {stage.pk: StatusCounts() for stage in stages}
    totals = StatusCounts()
    rows_by_function = {row.function.pk: row for row in rows}
    overdue: list[Touchpoint] = []
    for tp in shown:
        late = is_overdue(status=tp.status, due_on=tp.due_on, today=today)
        tp.is_overdue = late  # type: ignore[attr-defined]
        cell = cells[(tp.stage_id, tp.function_id)]
        cell.touchpoints.append(tp)
        cell.counts.add(tp, overdue=late)
        rows_by_function[tp.function_id].counts.add(tp, overdue=late)
        by_stage[tp.stage_id].add(tp, overdue=late)
        totals.add(tp, overdue=late)
        if late:
            overdue.append(tp)
    order = {status.value: index for index, status in enumerate(SEVERITY)}
    open_touchpoints = sorted(
        (tp for tp in shown if tp.status in (Status.GAP, Status.AT_RISK)),
        key=lambda tp: (order[tp.status], tp.due_on or date.max, tp.position, tp.pk),
    )
    return Grid(
        readiness_map=readiness_map,
        stages=stages,
        rows=rows,
        stage_counts=[by_stage[stage.pk] for stage in stages],
        counts=totals,
        open_touchpoints=open_touchpoints,
        overdue=sorted(overdue, key=lambda tp: (tp.due_on or date.max, tp.pk)),
        owners=owners,
        filtered=bool(function or owner or status or overdue_only),
        today=today,
    )


def status_counts(readiness_map: ReadinessMap) -> dict[str, int]:
    counter = Counter(Touchpoint.objects.filter(map=readiness_map).values_list("status", flat=True))
    return {status.value: counter.get(status.value, 0) for status in Status}


@dataclass
class LinkView:
    pk: int
    kind: str
    kind_label: str
    target: str
    label: str
    url: str
    serves: str
    gone: bool


@dataclass
class TouchpointPage:
    touchpoint: Touchpoint
    checklist: list[ChecklistItem]
    comments: list[TouchpointComment]
    links: list[LinkView]
    history: list[tuple[AuditLogEntry, str]]  # each change with what it was, in words
    is_overdue: bool
    serves: list[str]  # how it is served: automated, people, measured (none: nothing behind it)


def links_of(touchpoint: Touchpoint) -> list[LinkView]:
    """The touchpoint's links, each named by the app that owns its kind; one whose target is gone (or
    whose app is not installed) stays listed so someone can remove it."""
    from touchpoint.readiness.links import link_kinds

    views = []
    for row in touchpoint.links.order_by("kind", "target"):
        kind = link_kinds.get(row.kind)
        resolved = kind.resolve(row.target) if kind is not None else None
        views.append(
            LinkView(
                pk=row.pk,
                kind=row.kind,
                kind_label=str(kind.label) if kind is not None else row.kind,
                target=row.target,
                label=resolved[0] if resolved else row.target,
                url=resolved[1] if resolved else "",
                serves=kind.serves if kind is not None else "",
                gone=resolved is None,
            )
        )
    return views


def touchpoint_page(touchpoint: Touchpoint, *, today: date | None = None) -> TouchpointPage:
    today = today or timezone.localdate()
    links = links_of(touchpoint)
    return TouchpointPage(
        touchpoint=touchpoint,
        checklist=list(touchpoint.checklist.select_related("confirmed_by").order_by("position", "id")),
        comments=list(touchpoint.comments.select_related("author").order_by("created_at", "id")),
        links=links,
        history=[
            (entry, in_words(entry))
            for entry in AuditLogEntry.objects.filter(
                object_type="readiness.touchpoint", object_id=str(touchpoint.pk)
            )
            .select_related("actor")
            .order_by("-created_at", "-id")[:100]
        ],
        is_overdue=is_overdue(status=touchpoint.status, due_on=touchpoint.due_on, today=today),
        serves=sorted({link.serves for link in links if not link.gone and link.serves}),
    )


def serving_by_touchpoint(readiness_map: ReadinessMap) -> dict[int, set[str]]:
    """For each touchpoint of the map, how it is served (automated, people, measured) by the links
    whose target still exists: a link to a deleted journey serves nothing."""
    from touchpoint.readiness.links import describe

    described: dict[tuple[str, str], tuple[str, str, str] | None] = {}
    serving: dict[int, set[str]] = {}
    for touchpoint_id, kind, target in TouchpointLink.objects.filter(
        touchpoint__map=readiness_map
    ).values_list("touchpoint_id", "kind", "target"):
        if (kind, target) not in described:  # each target is looked up once, however many link it
            described[kind, target] = describe(kind, target)
        found = described[kind, target]
        if found is not None:
            serving.setdefault(touchpoint_id, set()).add(found[2])
    return serving


def _pair(value: Any) -> tuple[str, str]:
    if isinstance(value, list) and len(value) == 2:
        return str(value[0] or ""), str(value[1] or "")
    return "", str(value or "")


def _changed_fields(changes: dict[str, Any]) -> str:
    """ "due date: 2026-12-10, owner: Olivia Hart": each field by its name, with what it became."""
    parts = []
    for field_name, value in sorted(changes.items()):
        try:
            label = str(getattr(Touchpoint._meta.get_field(field_name), "verbose_name", field_name))
        except FieldDoesNotExist:
            label = field_name
        shown = str(value) if value not in (None, "") else "—"
        parts.append(f"{label}: {shown[:80]}{'…' if len(shown) > 80 else ''}")
    return ", ".join(parts)


def in_words(entry: AuditLogEntry) -> str:
    """One audited change of a touchpoint as a sentence (the history on its page)."""
    changes = entry.changes if isinstance(entry.changes, dict) else {}
    statuses, answers = dict(Status.choices), dict(Answer.choices)
    action = entry.action.removeprefix("readiness.")
    if action == "answered":
        _before, answer = _pair(changes.get("answer"))
        text = _("answered “%(question)s”: %(answer)s") % {
            "question": changes.get("question", ""),
            "answer": answers.get(answer, answer) or answers[""],
        }
        before, after = _pair(changes.get("status"))
        if before != after:
            text += " · " + _("status %(before)s → %(after)s") % {
                "before": statuses.get(before, before),
                "after": statuses.get(after, after),
            }
        return str(text)
    if action in ("status_set", "status_cleared", "status_overdue"):
        before, after = _pair(changes.get("status"))
        words = {
            "status_set": _("set the status by hand to %(status)s: %(reason)s"),
            "status_cleared": _("let the checklist decide the status again (%(status)s)"),
            "status_overdue": _("past its due date: now %(status)s"),
        }[action]
        return words % {"status": statuses.get(after, after), "reason": changes.get("reason", "")}
    simple = {
        "touchpoint_added": _("added the touchpoint"),
        "touchpoint_changed": _("changed %(fields)s"),
        "question_added": _("added the question “%(question)s”"),
        "question_removed": _("removed the question “%(question)s”"),
        "commented": _("commented"),
        "linked": _("linked %(kind)s “%(target)s”"),
        "unlinked": _("removed the link to %(kind)s “%(target)s”"),
        "task_made": _("made a task for %(owner)s, due %(due_on)s"),
        "applied": _("changed by applying the map's text"),
    }
    found = simple.get(action)
    if found is None:
        return entry.action
    words = str(found)
    values = {key: value for key, value in changes.items() if isinstance(value, str | int)}
    if action == "touchpoint_changed":
        values["fields"] = _changed_fields(changes)
    try:
        return words % values
    except (KeyError, TypeError, ValueError):
        return str(words).split("%")[0].strip()
