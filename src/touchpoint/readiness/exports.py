"""A map out of Touchpoint: CSV (one row per checklist question, for a spreadsheet) and PDF (the grid
and the open gaps, for a launch review)."""

from __future__ import annotations

import io

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from touchpoint.readiness import selectors
from touchpoint.readiness.models import Answer, ChecklistItem, ReadinessMap, Status, Touchpoint
from touchpoint.spreadsheet import SafeWriter


def _cell(value: object) -> str:
    return "" if value is None else str(value)


def map_csv(readiness_map: ReadinessMap) -> str:
    """Every touchpoint with each of its questions (a touchpoint without questions has one row)."""
    statuses, answers = dict(Status.choices), dict(Answer.choices)
    out = io.StringIO()
    out.write("\ufeff")  # spreadsheet programs read the UTF-8 right with a byte-order mark
    writer = SafeWriter(out)  # a touchpoint called "=HYPERLINK(…)" stays text
    writer.writerow(
        [
            _("Stage"),
            _("Function"),
            _("Touchpoint"),
            _("Status"),
            _("Status set by hand"),
            _("Reason"),
            _("Owner"),
            _("Due date"),
            _("Question"),
            _("Answer"),
            _("Evidence link"),
            _("Note"),
            _("Confirmed by"),
            _("Confirmed at"),
        ]
    )
    items: dict[int, list[ChecklistItem]] = {}
    for checklist_item in (
        ChecklistItem.objects.filter(touchpoint__map=readiness_map)
        .select_related("confirmed_by")
        .order_by("position", "id")
    ):
        items.setdefault(checklist_item.touchpoint_id, []).append(checklist_item)
    touchpoints = (
        Touchpoint.objects.filter(map=readiness_map)
        .select_related("stage", "function__lead", "owner")
        .order_by("stage__position", "function__position", "position", "id")
    )
    for tp in touchpoints:
        answerer = tp.owner or tp.function.lead
        head = [
            tp.stage.name,
            tp.function.name,
            tp.name,
            statuses.get(tp.status, tp.status),
            _("yes") if tp.status_by_hand else "",
            tp.status_reason,
            str(answerer) if answerer else "",
            tp.due_on.isoformat() if tp.due_on else "",
        ]
        rows: list[ChecklistItem | None] = list(items.get(tp.pk, ())) or [None]
        for item in rows:
            tail = (
                [
                    item.question,
                    answers.get(item.answer, item.answer),
                    item.evidence_url,
                    item.note,
                    str(item.confirmed_by) if item.confirmed_by else "",
                    timezone.localtime(item.confirmed_at).strftime("%Y-%m-%d %H:%M")
                    if item.confirmed_at
                    else "",
                ]
                if item is not None
                else [""] * 6
            )
            writer.writerow([_cell(value) for value in [*head, *tail]])
    return out.getvalue()


def map_pdf(readiness_map: ReadinessMap, request: HttpRequest) -> bytes:
    """The grid (status by stage and function, with counts) and every open gap and risk with its owner
    and due date, on A4 landscape."""
    from weasyprint import HTML  # imported here: loading it (and Pango) costs time every page need not pay

    grid = selectors.map_grid(readiness_map)
    html = render_to_string(
        "readiness/map_pdf.html",
        {"map": readiness_map, "grid": grid, "printed_at": timezone.localtime()},
        request=request,
    )
    # No base URL: the page carries its own styles and fetches nothing.
    return HTML(string=html).write_pdf()
