"""REST API for an account's success plan: read it, or replace it whole (PUT; idempotent)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from pydantic import Field

from touchpoint.accounts.models import Account, Contact
from touchpoint.accounts.schemas import Ref
from touchpoint.api_contract import READ, WRITE, Day, Id, Strict, Text, answers, caller, require_perm
from touchpoint.plans import selectors, services
from touchpoint.plans.models import PlanMilestoneStatus, StakeholderRole
from touchpoint.success.models import MilestoneDefinition

router = Router(tags=["success plans"])

KpiNumber = Annotated[
    Decimal,
    Field(strict=False, max_digits=18, decimal_places=4, ge=-services.KPI_LIMIT, le=services.KPI_LIMIT),
]
RoleValue = Literal["champion", "decision_maker", "executive_sponsor"]
MilestoneStatusValue = Literal["planned", "in_progress", "done", "missed"]
PlanStatusValue = Literal["draft", "agreed", "closed"]


# --- Out ------------------------------------------------------------------------------------------


class KpiOut(Schema):
    name: str
    unit: str
    baseline: Decimal | None
    target: Decimal | None
    current: Decimal | None
    due_on: date | None
    owner: Ref | None
    progress: float | None = Field(description="0 to 1 from baseline toward target; null when not measurable")


class ObjectiveOut(Schema):
    text: str
    kpis: list[KpiOut]


class StakeholderOut(Schema):
    contact: Ref
    role: RoleValue


class PlanMilestoneOut(Schema):
    title: str
    due_on: date | None
    status: MilestoneStatusValue
    progress: int
    done_on: date | None
    milestone: Ref | None = Field(description="The framework milestone it tracks")
    reached_on: date | None = Field(description="When the account reached the tracked milestone")


class PlanOut(Schema):
    account: int
    title: str
    summary: str
    status: PlanStatusValue
    framework: Ref | None
    agreed_by: Ref | None
    agreed_on: date | None
    progress: float | None = Field(description="The health measure success_plan_progress, 0 to 100")
    objectives: list[ObjectiveOut]
    stakeholders: list[StakeholderOut]
    milestones: list[PlanMilestoneOut]


def _ref(row: Contact | MilestoneDefinition | None) -> Ref | None:
    return None if row is None else Ref(id=row.pk, name=row.name)


def _plan_out(account: Account) -> PlanOut:
    plan = selectors.plan_of(account)
    if plan is None:
        from django.http import Http404

        raise Http404(_("This account has no success plan."))
    view = selectors.plan_view(plan)
    return PlanOut(
        account=account.pk,
        title=plan.title,
        summary=plan.summary,
        status=plan.status,  # type: ignore[arg-type]
        framework=None if plan.framework is None else Ref(id=plan.framework.pk, name=plan.framework.name),
        agreed_by=_ref(plan.agreed_by),
        agreed_on=plan.agreed_on,
        progress=view.progress,
        objectives=[
            ObjectiveOut(
                text=row.objective.text,
                kpis=[
                    KpiOut(
                        name=k.kpi.name,
                        unit=k.kpi.unit,
                        baseline=k.kpi.baseline,
                        target=k.kpi.target,
                        current=k.kpi.current,
                        due_on=k.kpi.due_on,
                        owner=_ref(k.kpi.owner),
                        progress=k.progress,
                    )
                    for k in row.kpis
                ],
            )
            for row in view.objectives
        ],
        stakeholders=[
            StakeholderOut(contact=_ref(s.contact), role=s.role)  # type: ignore[arg-type]
            for s in plan.stakeholders.all()
        ],
        milestones=[
            PlanMilestoneOut(
                title=row.milestone.title,
                due_on=row.milestone.due_on,
                status=row.milestone.status,  # type: ignore[arg-type]
                progress=row.milestone.progress,
                done_on=row.milestone.done_on,
                milestone=_ref(row.milestone.milestone),
                reached_on=row.reached_on,
            )
            for row in view.milestones
        ],
    )


# --- In -------------------------------------------------------------------------------------------


class KpiIn(Strict):
    name: Annotated[Text, Field(min_length=1, max_length=100)]
    unit: Annotated[Text, Field(max_length=30)] = ""
    baseline: KpiNumber | None = None
    target: KpiNumber | None = None
    current: KpiNumber | None = None
    due_on: Day | None = None
    owner: Id | None = Field(None, description="A contact of the account")


class ObjectiveIn(Strict):
    text: Annotated[Text, Field(min_length=1, max_length=2000)]
    kpis: list[KpiIn] = Field(default_factory=list, max_length=20)


class StakeholderIn(Strict):
    contact: Id
    role: RoleValue


class PlanMilestoneIn(Strict):
    title: Annotated[Text, Field(min_length=1, max_length=100)]
    due_on: Day | None = None
    status: MilestoneStatusValue = "planned"
    progress: Annotated[int, Field(ge=0, le=100)] = 0
    milestone: Id | None = Field(None, description="A milestone of the account's success framework")


class PlanIn(Strict):
    title: Annotated[Text, Field(min_length=1, max_length=200)]
    summary: Annotated[Text, Field(max_length=5000)] = ""
    objectives: list[ObjectiveIn] = Field(default_factory=list, max_length=20)
    stakeholders: list[StakeholderIn] = Field(default_factory=list, max_length=50)
    milestones: list[PlanMilestoneIn] = Field(default_factory=list, max_length=50)
    agreed_by: Id | None = Field(None, description="The contact who agreed to the plan")
    agreed_on: Day | None = None
    closed: bool = False


def _contact(account: Account, contact_id: int | None, field: str) -> Contact | None:
    if contact_id is None:
        return None
    contact = Contact.objects.filter(pk=contact_id, account=account).first()
    if contact is None:
        raise ValidationError({field: _("No contact %(id)s at this account.") % {"id": contact_id}})
    return contact


def _milestone(contact_id: int | None, field: str) -> MilestoneDefinition | None:
    if contact_id is None:
        return None
    milestone = MilestoneDefinition.objects.filter(pk=contact_id).first()
    if milestone is None:
        raise ValidationError({field: _("No such milestone: %(id)s.") % {"id": contact_id}})
    return milestone


def _values(account: Account, body: PlanIn) -> services.PlanValues:
    return services.PlanValues(
        title=body.title,
        summary=body.summary,
        objectives=[
            services.ObjectiveValues(
                text=objective.text,
                kpis=[
                    services.KpiValues(
                        name=kpi.name,
                        unit=kpi.unit,
                        baseline=kpi.baseline,
                        target=kpi.target,
                        current=kpi.current,
                        due_on=kpi.due_on,
                        owner=_contact(account, kpi.owner, f"objectives.{index}.kpis.{kpi_index}.owner"),
                    )
                    for kpi_index, kpi in enumerate(objective.kpis)
                ],
            )
            for index, objective in enumerate(body.objectives)
        ],
        stakeholders=[
            (_contact(account, s.contact, f"stakeholders.{index}.contact"), StakeholderRole(s.role).value)  # type: ignore[misc]
            for index, s in enumerate(body.stakeholders)
        ],
        milestones=[
            services.MilestoneValues(
                title=m.title,
                due_on=m.due_on,
                status=PlanMilestoneStatus(m.status).value,
                progress=m.progress,
                milestone=_milestone(m.milestone, f"milestones.{index}.milestone"),
            )
            for index, m in enumerate(body.milestones)
        ],
        agreed_by=_contact(account, body.agreed_by, "agreed_by"),
        agreed_on=body.agreed_on,
        closed=body.closed,
    )


@router.get(
    "/accounts/{account_id}/success-plan",
    response=answers({200: PlanOut}, *READ, 404),
    summary="Get an account's success plan",
)
def get_success_plan(request: HttpRequest, account_id: Id):
    """The plan with its objectives and KPIs, stakeholders, milestones and progress (404 when none)."""
    account = get_object_or_404(Account, pk=account_id)
    require_perm(request, "plans.view_successplan", account)
    return _plan_out(account)


@router.put(
    "/accounts/{account_id}/success-plan",
    response=answers({200: PlanOut, 201: PlanOut}, *WRITE, 404),
    summary="Write an account's success plan",
)
def put_success_plan(request: HttpRequest, account_id: Id, body: PlanIn):
    """Replace the plan with the body (created when missing: 201). What the body does not list is removed;
    the same body twice changes nothing. `agreed_by` and `agreed_on` go together."""
    account = get_object_or_404(Account, pk=account_id)
    require_perm(request, "plans.change_successplan", account)
    _plan, created = services.replace_plan(
        account=account, values=_values(account, body), actor=caller(request)
    )
    return Status(201 if created else 200, _plan_out(account))
