"""REST API: the success-gap funnel (mounted by success/api.py)."""

from __future__ import annotations

from typing import Annotated

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from pydantic import Field

from touchpoint.accounts.models import Segment
from touchpoint.api_contract import READ, Id, Text, answers, require_perm
from touchpoint.success.funnel import FunnelFilter, FunnelStep, funnel, parse_cohort
from touchpoint.success.models import SuccessFramework
from touchpoint.users.models import User

# The months parse_cohort accepts (1900-01 to 2999-12), or nothing: said in the schema, so a client
# knows before it asks.
COHORT_PATTERN = r"^((19|2[0-9])[0-9]{2}-(0[1-9]|1[0-2]))?$"

router = Router(tags=["success"])


class FunnelMilestoneOut(Schema):
    id: int
    key: str
    name: str
    kind: str
    stall_after_days: int


class FunnelStepOut(Schema):
    milestone: FunnelMilestoneOut
    reached: int
    at_previous: int
    conversion_from_previous: float | None
    conversion_from_start: float | None
    median_days_from_previous: float | None
    stalled: int


class FunnelGapOut(Schema):
    last_product_milestone: int
    outcome_milestones: list[int]
    product_reached: int
    outcome_reached: int
    accounts: int
    share: float | None
    median_days: float | None


class FunnelFrameworkOut(Schema):
    id: int
    key: str
    name: str


class FunnelOut(Schema):
    framework: FunnelFrameworkOut
    as_of: str
    cohort: str | None
    segment: int | None
    owner: int | None
    started: int
    steps: list[FunnelStepOut]
    gap: FunnelGapOut | None


def framework_named(value: str) -> SuccessFramework | None:
    """A framework by its key or id; None asks for the default one."""
    value = (value or "").strip()
    if not value:
        return SuccessFramework.objects.filter(is_default=True).first()
    found = SuccessFramework.objects.filter(key=value).first()
    if found is None and value.isdigit() and len(value) < 19:  # an id (within a bigint)
        found = SuccessFramework.objects.filter(pk=int(value)).first()
    return found


def _step_out(step: FunnelStep) -> dict:
    milestone = step.milestone
    return {
        "milestone": {
            "id": milestone.pk,
            "key": milestone.key,
            "name": milestone.name,
            "kind": milestone.kind,
            "stall_after_days": milestone.stall_after_days,
        },
        "reached": step.reached,
        "at_previous": step.at_previous,
        "conversion_from_previous": step.conversion_from_previous,
        "conversion_from_start": step.conversion_from_start,
        "median_days_from_previous": step.median_days,
        "stalled": step.stalled,
    }


@router.get(
    "/success/funnel",
    response=answers({200: FunnelOut}, *READ, 404),
    summary="The success-gap funnel of a framework",
)
def get_funnel(
    request: HttpRequest,
    framework: Text = "",
    cohort: Annotated[
        str, Field(pattern=COHORT_PATTERN, max_length=7, description="Start month, YYYY-MM")
    ] = "",
    segment: Id | None = None,
    owner: Id | None = None,
):
    """For the framework (key or id; empty: the default), the accounts that reached each milestone in
    order, conversion from the previous step and from the start, median days from the previous step, and
    how many stall before each (the previous step older than the milestone's `stall_after_days`). `gap`:
    the accounts whose product works (the last product milestone) without the outcome milestones after
    it. Filters: `cohort` (start month, YYYY-MM), `segment` and `owner` ids. Counts only the accounts the
    caller may read."""
    require_perm(request, "success.view_successframework")
    try:
        cohort_day = parse_cohort(cohort)
    except ValueError as error:
        return Status(
            422,
            {
                "detail": _("Some fields are not valid."),
                "errors": [{"field": "cohort", "message": str(error)}],
            },
        )
    found_framework = framework_named(framework)
    if found_framework is None:
        raise Http404
    if segment is not None and not Segment.objects.filter(pk=segment).exists():
        raise ValidationError({"segment": _("No such record: %(id)s.") % {"id": segment}})
    if owner is not None and not User.objects.filter(pk=owner).exists():
        raise ValidationError({"owner": _("No such record: %(id)s.") % {"id": owner}})
    result = funnel(
        framework=found_framework,
        filters=FunnelFilter(segment_id=segment, owner_id=owner, cohort=cohort_day, reader=request.user),
    )
    gap = result.gap
    return {
        "framework": {"id": found_framework.pk, "key": found_framework.key, "name": found_framework.name},
        "as_of": result.as_of.isoformat(),
        "cohort": cohort_day.strftime("%Y-%m") if cohort_day else None,
        "segment": segment,
        "owner": owner,
        "started": result.started,
        "steps": [_step_out(step) for step in result.steps],
        "gap": None
        if gap is None
        else {
            "last_product_milestone": gap.product_step.milestone.pk,
            "outcome_milestones": [step.milestone.pk for step in gap.outcome_steps],
            "product_reached": gap.product_reached,
            "outcome_reached": gap.outcome_reached,
            "accounts": gap.accounts,
            "share": gap.share,
            "median_days": gap.median_days,
        },
    }
