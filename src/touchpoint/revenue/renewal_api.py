"""REST API for renewal opportunities: list, read, change (stage, forecast, expected ARR, notes), outcome.

The operations hang on revenue's router (imported at the end of revenue/api.py), under
/api/v1/renewal-opportunities.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Schema
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
    answers,
    caller,
    page_of,
    require_perm,
)
from touchpoint.revenue import renewal_process, renewal_selectors
from touchpoint.revenue.api import CONFIRM_HELP, Confirmation, router
from touchpoint.revenue.models import MAX_EXPECTED_ARR, ChurnReason, RenewalOpportunity
from touchpoint.users.models import User

StageValue = Literal["not_started", "in_discussion", "commit", "renewed", "churned", "downgraded"]
OpenStageValue = Literal["not_started", "in_discussion", "commit"]
OutcomeValue = Literal["renewed", "churned", "downgraded"]
ForecastValue = Literal["pipeline", "best_case", "commit", "closed", "omitted"]
SettableForecastValue = Literal["pipeline", "best_case", "commit", "omitted"]
# A day as text, years 1900 to 2999 as every date the API takes (a query string has no JSON types, so
# a number would otherwise be read as seconds since 1970).
DAY_PATTERN = r"^(19\d\d|2\d\d\d)-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$"


class OwnerOut(Schema):
    id: int
    email: str
    name: str


class OpportunityOut(Schema):
    id: int
    account: Ref
    subscription_id: int
    product: str
    renewal_date: date
    days_left: int
    overdue: bool
    stage: StageValue
    forecast_category: ForecastValue
    expected_arr: Decimal
    currency: str
    owner: OwnerOut | None
    health_grade: str | None
    notes: str
    outcome_reason: str
    churn_reason: str | None
    closed_at: datetime | None


class OpportunityPatch(Strict):
    stage: OpenStageValue | None = None
    forecast_category: SettableForecastValue | None = None
    expected_arr: Decimal | None = Field(
        None, ge=0, le=MAX_EXPECTED_ARR, max_digits=14, decimal_places=2, strict=False
    )
    notes: str | None = Field(None, max_length=5000)
    owner: Id | None = None


class OutcomeIn(Strict):
    outcome: OutcomeValue
    reason: str = Field("", max_length=5000)
    churn_reason: Id | None = Field(None, description="Required for churned.")
    new_mrr: Decimal | None = Field(
        None,
        ge=0,
        le=Decimal("999999999999.99"),
        max_digits=14,
        decimal_places=2,
        strict=False,
        description="Required for downgraded (below the current MRR); for renewed, a higher price.",
    )
    new_renewal_date: Day | None = Field(None, description="Default: one term after this renewal.")
    effective_on: Day | None = Field(None, description="Default: the renewal date, or today if earlier.")
    confirm: Confirmation = Field(False, description=CONFIRM_HELP)


def _out(opportunity: RenewalOpportunity) -> dict:
    today = timezone.localdate()
    owner = opportunity.owner
    days = renewal_selectors.days_left(opportunity, today)
    return {
        "id": opportunity.pk,
        "account": {"id": opportunity.account_id, "name": opportunity.account.name},
        "subscription_id": opportunity.subscription_id,
        "product": str(opportunity.subscription),
        "renewal_date": opportunity.renewal_date,
        "days_left": days,
        "overdue": opportunity.is_open and days < 0,
        "stage": opportunity.stage,
        "forecast_category": opportunity.forecast_category,
        "expected_arr": opportunity.expected_arr.quantize(Decimal("0.01")),
        "currency": opportunity.subscription.currency,
        "owner": {"id": owner.pk, "email": owner.email, "name": str(owner)} if owner else None,
        "health_grade": getattr(opportunity, "health_grade", None),
        "notes": opportunity.notes,
        "outcome_reason": opportunity.outcome_reason,
        "churn_reason": opportunity.churn_reason.name if opportunity.churn_reason else None,
        "closed_at": opportunity.closed_at,
    }


def _load(opportunity_id: int) -> RenewalOpportunity:
    return get_object_or_404(
        renewal_selectors.with_details(RenewalOpportunity.objects.all()), pk=opportunity_id
    )


@router.get(
    "/renewal-opportunities",
    response=answers({200: Page[OpportunityOut]}, *READ),
    summary="List renewal opportunities",
)
def list_opportunities(
    request: HttpRequest,
    paging: Query[Paging],
    stage: StageValue | None = None,
    owner: Id | None = None,
    account: Id | None = None,
    due_before: str | None = Query(
        None, pattern=DAY_PATTERN, description="Renewal date on or before this day (YYYY-MM-DD)."
    ),
    overdue: bool | None = None,
):
    """Renewal opportunities of the accounts you may read, soonest first. `overdue=true`: open ones
    whose renewal date has passed (they stay until an outcome is recorded)."""
    require_perm(request, "revenue.view_renewalopportunity")
    try:
        before = date.fromisoformat(due_before) if due_before else None
    except ValueError:
        raise ValidationError({"due_before": _("Give a date as YYYY-MM-DD, e.g. 2026-03-01.")}) from None
    found = renewal_selectors.opportunities(
        reader=request.user,
        stage=stage or "",
        owner_id=owner,
        account_id=account,
        due_before=before,
        overdue=overdue,
    )
    return page_of(found, paging, _out)


@router.get(
    "/renewal-opportunities/{opportunity_id}",
    response=answers({200: OpportunityOut}, *READ, 404),
    summary="Get a renewal opportunity",
)
def get_opportunity(request: HttpRequest, opportunity_id: Id):
    opportunity = _load(opportunity_id)
    require_perm(request, "revenue.view_renewalopportunity", opportunity)
    return _out(opportunity)


@router.patch(
    "/renewal-opportunities/{opportunity_id}",
    response=answers({200: OpportunityOut}, *WRITE, 404),
    summary="Change a renewal opportunity",
)
def change_opportunity(request: HttpRequest, opportunity_id: Id, body: OpportunityPatch):
    """Change only the fields sent: stage (open stages), forecast category, expected ARR, notes, owner.
    An outcome is recorded with POST …/outcome."""
    opportunity = _load(opportunity_id)
    require_perm(request, "revenue.change_renewalopportunity", opportunity)
    changes = body.model_dump(exclude_unset=True)
    for field in ("stage", "forecast_category", "expected_arr", "notes"):
        if field in changes and changes[field] is None:
            raise ValidationError({field: _("This field cannot be null.")})
    if "owner" in changes and changes["owner"] is not None:
        owner = User.objects.filter(pk=changes["owner"], is_active=True).first()
        if owner is None:
            raise ValidationError({"owner": _("No such record: %(id)s.") % {"id": changes["owner"]}})
        changes["owner"] = owner
    renewal_process.update_opportunity(opportunity=opportunity, actor=caller(request), **changes)
    return _out(_load(opportunity_id))


@router.post(
    "/renewal-opportunities/{opportunity_id}/outcome",
    response=answers({200: OpportunityOut}, *WRITE, 404, 409),
    summary="Record a renewal's outcome",
)
def record_outcome(request: HttpRequest, opportunity_id: Id, body: OutcomeIn):
    """Renewed (the renewal date moves on and the next renewal opens), downgraded (a lower MRR,
    recorded as a contraction) or churned (the subscription is canceled with its churn reason)."""
    opportunity = _load(opportunity_id)
    require_perm(request, "revenue.change_renewalopportunity", opportunity)
    reason = None
    if body.churn_reason is not None:
        reason = ChurnReason.objects.filter(pk=body.churn_reason).first()
        if reason is None:
            raise ValidationError({"churn_reason": _("No such record: %(id)s.") % {"id": body.churn_reason}})
    renewal_process.record_renewal_outcome(
        opportunity=opportunity,
        outcome=body.outcome,
        actor=caller(request),
        reason=body.reason,
        churn_reason=reason,
        new_mrr=body.new_mrr,
        new_renewal_date=body.new_renewal_date,
        effective_on=body.effective_on,
        confirm=body.confirm,
    )
    return _out(_load(opportunity_id))
