"""REST API for readiness maps: the list with their counts, one map as its grid (stages, functions,
touchpoints with status, owner and due date, each stage's KPIs), and the month's uptime a monitoring
tool posts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Query, Router, Schema, Status
from pydantic import Field

from touchpoint.accounts.schemas import Ref
from touchpoint.api_contract import (
    READ,
    WRITE,
    Day,
    Id,
    Page,
    Paging,
    Strict,
    Text,
    answers,
    caller,
    page_of,
    require_perm,
)
from touchpoint.readiness import selectors, services
from touchpoint.readiness.kpis import KpiContext, cells
from touchpoint.readiness.models import ReadinessMap, Touchpoint
from touchpoint.users.models import User

router = Router(tags=["readiness"])

StatusValue = Literal["ready", "at_risk", "gap", "not_applicable"]


class CountsOut(Schema):
    ready: int
    at_risk: int
    gap: int
    not_applicable: int
    overdue: int
    total: int


class MapSummaryOut(Schema):
    id: int
    key: str
    name: str
    kind: Literal["product", "release", "market", "plan"]
    product: str
    launch_on: date | None
    owner: Ref | None
    archived: bool
    counts: CountsOut


class StageOut(Schema):
    key: str
    name: str
    description: str
    counts: CountsOut


class FunctionOut(Schema):
    key: str
    name: str
    lead: Ref | None


class TouchpointOut(Schema):
    id: int
    key: str
    name: str
    stage: str = Field(description="The stage's key")
    function: str = Field(description="The function's key")
    status: StatusValue
    status_by_hand: bool
    status_reason: str
    owner: Ref | None = Field(description="Who answers for it: its owner, else its function's lead")
    due_on: date | None
    overdue: bool
    questions: int
    answered: int
    serves: list[Literal["automated", "people", "measured"]] = Field(
        description="How the linked journeys, playbooks and milestones serve it; empty: nothing behind it"
    )


class KpiOut(Schema):
    key: str
    label: str
    unit: str
    value: float | None = Field(description="null when there is no data yet (see how_to_bring)")
    previous: float | None
    trend: Literal["up", "down", "flat", ""]
    better: Literal["higher", "lower"] | None
    count: int | None
    how_to_bring: str
    error: bool = Field(description="true when the figure could not be computed just now (value is null)")


class StageKpisOut(Schema):
    stage: str
    kpis: list[KpiOut]


class MapOut(MapSummaryOut):
    description: str
    stages: list[StageOut]
    functions: list[FunctionOut]
    touchpoints: list[TouchpointOut]
    kpis: list[StageKpisOut]


def _ref(user: User | None) -> Ref | None:
    return None if user is None else Ref(id=user.pk, name=str(user))


def _summary(readiness_map: ReadinessMap) -> dict:
    return {
        "id": readiness_map.pk,
        "key": readiness_map.key,
        "name": readiness_map.name,
        "kind": readiness_map.kind,
        "product": readiness_map.product,
        "launch_on": readiness_map.launch_on,
        "owner": _ref(readiness_map.owner),
        "archived": readiness_map.archived_at is not None,
    }


@router.get(
    "/readiness/maps",
    response=answers({200: Page[MapSummaryOut]}, *READ),
    summary="List readiness maps",
)
def list_maps(request: HttpRequest, paging: Query[Paging], archived: bool = False):
    """Every map with its touchpoints counted by status (the archived ones with `archived=true`)."""
    require_perm(request, "readiness.view_readinessmap")

    def out(row: ReadinessMap) -> dict:
        counts = {
            "ready": row.ready_count,  # type: ignore[attr-defined]
            "at_risk": row.at_risk_count,  # type: ignore[attr-defined]
            "gap": row.gap_count,  # type: ignore[attr-defined]
            "not_applicable": row.touchpoint_count - row.applicable_count,  # type: ignore[attr-defined]
            "overdue": row.overdue_count,  # type: ignore[attr-defined]
            "total": row.touchpoint_count,  # type: ignore[attr-defined]
        }
        return _summary(row) | {"counts": counts}

    return page_of(selectors.map_list(archived=archived), paging, out)


@router.get(
    "/readiness/maps/{map_id}",
    response=answers({200: MapOut}, *READ, 404),
    summary="Get a readiness map's grid",
)
def get_map(request: HttpRequest, map_id: Id):
    """The map's stages and functions, every touchpoint with its status, owner and due date, and each
    stage's KPIs computed from Touchpoint's data (a null value says there is none yet, and how to bring it)."""
    require_perm(request, "readiness.view_readinessmap")
    readiness_map = get_object_or_404(ReadinessMap.objects.select_related("owner"), pk=map_id)
    grid = selectors.map_grid(readiness_map)
    serving = selectors.serving_by_touchpoint(readiness_map)
    touchpoints: list[Touchpoint] = [tp for row in grid.rows for cell in row.cells for tp in cell.touchpoints]
    touchpoints.sort(key=lambda tp: (tp.position, tp.pk))
    context = KpiContext(product=readiness_map.product, today=grid.today)
    user = caller(request)
    return _summary(readiness_map) | {
        "counts": grid.counts.as_dict(),
        "description": readiness_map.description,
        "stages": [
            {
                "key": stage.key,
                "name": stage.name,
                "description": stage.description,
                "counts": counts.as_dict(),
            }
            for stage, counts in grid.columns
        ],
        "functions": [
            {"key": row.function.key, "name": row.function.name, "lead": _ref(row.function.lead)}
            for row in grid.rows
        ],
        "touchpoints": [
            {
                "id": tp.pk,
                "key": tp.key,
                "name": tp.name,
                "stage": tp.stage.key,
                "function": tp.function.key,
                "status": tp.status,
                "status_by_hand": tp.status_by_hand,
                "status_reason": tp.status_reason,
                "owner": _ref(tp.owner or tp.function.lead),
                "due_on": tp.due_on,
                "overdue": tp.is_overdue,
                "questions": tp.question_count,
                "answered": tp.answered_count,
                "serves": sorted(serving.get(tp.pk, ())),
            }
            for tp in touchpoints
        ],
        "kpis": [
            {
                "stage": stage.key,
                "kpis": [
                    {
                        "key": cell.key,
                        "label": str(cell.label),
                        "unit": str(cell.unit),
                        "value": cell.value.value if cell.value else None,
                        "previous": cell.value.previous if cell.value else None,
                        "trend": cell.value.trend if cell.value else "",
                        "better": cell.value.better if cell.value else None,
                        "count": cell.value.count if cell.value else None,
                        "how_to_bring": "" if cell.value else str(cell.how_to_bring),
                        "error": cell.error,
                    }
                    for cell in cells(stage.key, context, user)
                ],
            }
            for stage in grid.stages
        ],
    }


class UptimeIn(Strict):
    product: Text = Field(min_length=1, max_length=200)
    month: Day = Field(description="Any day of the month (its first day is stored)")
    uptime_percent: Annotated[Decimal, Field(strict=False, ge=0, le=100, max_digits=7, decimal_places=4)]
    source: Text = Field("", max_length=100, description="What measured it, e.g. the monitoring tool")


class UptimeOut(Schema):
    product: str
    month: date
    uptime_percent: Decimal
    source: str
    recorded_at: str


@router.post(
    "/readiness/uptime",
    response=answers({200: UptimeOut, 201: UptimeOut}, *WRITE),
    summary="Record a product's uptime for a month",
)
def post_uptime(request: HttpRequest, body: UptimeIn):
    """The month's uptime of a product, 0 to 100 %. Posting the same month again replaces the figure (200);
    a new month is 201. It feeds the uptime KPI of every map of that product."""
    require_perm(request, "readiness.add_uptimemonth")
    row, created = services.record_uptime(
        product=body.product,
        month=body.month,
        uptime_percent=body.uptime_percent,
        source=body.source,
        actor=caller(request),
    )
    out = {
        "product": row.product,
        "month": row.month,
        "uptime_percent": row.uptime_percent,
        "source": row.source,
        "recorded_at": timezone.localtime(row.recorded_at).isoformat(),
    }
    return Status(201 if created else 200, out)
