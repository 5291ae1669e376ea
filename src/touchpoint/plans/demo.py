"""Demo step "success-plans": success plans on the high-touch accounts.

Each live high-touch account (and a few hybrid ones) has a plan written by its CSM a few weeks after
it started, from its framework's plan template (or, for frameworks without one, the objectives below,
in the customer's words). Most are agreed a week or two later by the champion; KPIs have come part of
the way from baseline to target, further for customers who fit well; milestones due are mostly done.
Stakeholders are the account's champion, decision maker and (for some) an executive sponsor. Rows
and their "plan_changed" timeline entries are written as the services write them.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext_lazy as _
from pydantic import ValidationError as PydanticValidationError

from touchpoint.accounts.models import EngagementModel, TimelineEntry
from touchpoint.demo.builders import (
    TIMELINE_COLUMNS,
    DemoAccount,
    DemoContext,
    register_data,
    step,
    timeline_row,
)
from touchpoint.plans.models import (
    PlanKpi,
    PlanMilestone,
    PlanMilestoneStatus,
    PlanObjective,
    PlanStakeholder,
    PlanStatus,
    StakeholderRole,
    SuccessPlan,
)
from touchpoint.success.definition import KpiTemplate, PlanTemplate
from touchpoint.success.models import AccountPlacement, MilestoneDefinition, SuccessFramework

# For frameworks that ship no plan template: what demo customers say they want.
FALLBACK = PlanTemplate.model_validate(
    {
        "objectives": [
            {
                "text": "Close the books in five days instead of ten",
                "kpis": [
                    {
                        "name": "Days to close the month",
                        "unit": "days",
                        "baseline": 10,
                        "target": 5,
                        "due_in_days": 180,
                    }
                ],
            },
            {
                "text": "Every regional manager reads the weekly report without asking finance",
                "kpis": [
                    {
                        "name": "Managers reading the report weekly",
                        "unit": "%",
                        "baseline": 10,
                        "target": 80,
                        "due_in_days": 120,
                    }
                ],
            },
        ],
        "milestones": [
            {"title": "Kick-off held with the champion", "due_in_days": 14},
            {"title": "Data sources connected", "due_in_days": 30},
            {"title": "First report shared with the managers", "due_in_days": 60},
            {"title": "Quarterly review of the KPIs", "due_in_days": 90},
        ],
    }
)
HYBRID_SHARE = 0.2  # hybrid accounts whose CSM also writes a plan


def _template(framework: SuccessFramework | None) -> PlanTemplate:
    if framework is None or not framework.plan_template:
        return FALLBACK
    try:
        template = PlanTemplate.model_validate(framework.plan_template)
    except PydanticValidationError:
        return FALLBACK
    return template if template.objectives or template.milestones else FALLBACK


def _moment(ctx: DemoContext, day: date, rng: random.Random) -> datetime:
    return datetime.combine(day, time(rng.randint(9, 17), rng.randint(0, 59)), tzinfo=ctx.tz)


def _wants_plan(rng: random.Random, demo_account: DemoAccount) -> bool:
    account = demo_account.account
    if demo_account.churned_on is not None or account.owner_id is None:
        return False
    if account.engagement_model == EngagementModel.HIGH_TOUCH:
        return True
    return account.engagement_model == EngagementModel.HYBRID and rng.random() < HYBRID_SHARE


def _kpi_current(rng: random.Random, baseline: Decimal, target: Decimal, share: float) -> Decimal:
    value = baseline + (target - baseline) * Decimal(str(round(share, 2)))
    return value.quantize(Decimal("0.1") if abs(target - baseline) < 20 else Decimal(1))


@step("success-plans", after=("success", "accounts", "account_teams"))
def success_plans(ctx: DemoContext) -> None:
    rng = ctx.rng
    last_day = ctx.anchor - timedelta(days=1)  # nothing lies on or after the anchor's midnight
    placements = {
        p.account_id: p.framework
        for p in AccountPlacement.objects.select_related("framework").filter(
            account_id__in=[d.account.pk for d in ctx.accounts]
        )
    }
    milestones = {(m.framework_id, m.key): m for m in MilestoneDefinition.objects.all()}
    plan_type = ContentType.objects.get_for_model(SuccessPlan).pk
    plans: list[SuccessPlan] = []
    pending: list[tuple[SuccessPlan, DemoAccount, PlanTemplate, date]] = []
    for demo_account in ctx.accounts:
        if not _wants_plan(rng, demo_account):
            continue
        account = demo_account.account
        started = account.created_at.astimezone(ctx.tz).date()
        written = min(
            last_day, max(started, ctx.anchor - timedelta(days=ctx.days)) + timedelta(days=rng.randint(7, 30))
        )
        if written < started:
            continue
        framework = placements.get(account.pk)
        champions = demo_account.contacts_with("champion") or demo_account.contacts[:1]
        agreed_on = written + timedelta(days=rng.randint(5, 21))
        agreed = bool(champions) and agreed_on <= last_day and rng.random() < 0.55 + 0.4 * demo_account.fit
        plan = SuccessPlan(
            account=account,
            title=f"{account.name}: success plan",
            summary="Agreed at the kick-off: what the team wants to achieve this year and how we will both know.",
            status=PlanStatus.AGREED if agreed else PlanStatus.DRAFT,
            framework=framework,
            agreed_by=champions[0].contact if agreed else None,
            agreed_on=agreed_on if agreed else None,
            created_by_id=account.owner_id,
            created_at=_moment(ctx, written, rng),
        )
        plans.append(plan)
        pending.append((plan, demo_account, _template(framework), written))
    ctx.bulk_create(SuccessPlan, plans)

    objectives: list[PlanObjective] = []
    kpi_specs: list[tuple[int, KpiTemplate, SuccessPlan, DemoAccount, date]] = []
    plan_milestones: list[PlanMilestone] = []
    stakeholders: list[PlanStakeholder] = []
    for plan, demo_account, template, written in pending:
        for position, objective_template in enumerate(template.objectives):
            objectives.append(PlanObjective(plan=plan, text=objective_template.text, position=position))
            for kpi in objective_template.kpis:
                kpi_specs.append((len(objectives) - 1, kpi, plan, demo_account, written))
        for position, item in enumerate(template.milestones):
            due = written + timedelta(days=item.due_in_days) if item.due_in_days is not None else None
            done = due is not None and due <= last_day and rng.random() < 0.45 + 0.5 * demo_account.fit
            done_on = min(last_day, due + timedelta(days=rng.randint(-5, 7))) if done and due else None
            if due is not None and due > last_day:
                status = (
                    PlanMilestoneStatus.IN_PROGRESS
                    if due - last_day < timedelta(days=30)
                    else PlanMilestoneStatus.PLANNED
                )
            else:
                status = PlanMilestoneStatus.DONE if done else PlanMilestoneStatus.MISSED
            plan_milestones.append(
                PlanMilestone(
                    plan=plan,
                    title=item.title,
                    due_on=due,
                    status=status,
                    progress=100
                    if done
                    else (rng.choice([0, 20, 40, 60]) if status != PlanMilestoneStatus.PLANNED else 0),
                    done_on=max(written, done_on) if done_on else None,
                    milestone=milestones.get((plan.framework_id or 0, item.milestone))
                    if item.milestone
                    else None,
                    position=position,
                )
            )
        roles = (
            (StakeholderRole.CHAMPION, demo_account.contacts_with("champion")),
            (StakeholderRole.DECISION_MAKER, demo_account.contacts_with("decision_maker")),
        )
        for role, people in roles:
            for person in people[:1]:
                stakeholders.append(PlanStakeholder(plan=plan, contact=person.contact, role=role))
        deciders = demo_account.contacts_with("decision_maker")
        if deciders and rng.random() < 0.5:
            stakeholders.append(
                PlanStakeholder(
                    plan=plan, contact=deciders[0].contact, role=StakeholderRole.EXECUTIVE_SPONSOR
                )
            )
    ctx.bulk_create(PlanObjective, objectives)
    kpis: list[PlanKpi] = []
    for index, kpi, plan, demo_account, written in kpi_specs:
        baseline = Decimal(kpi.baseline) if kpi.baseline is not None else Decimal(rng.randint(5, 20))
        target = Decimal(kpi.target) if kpi.target is not None else baseline * 2
        due = written + timedelta(days=kpi.due_in_days) if kpi.due_in_days is not None else None
        elapsed = (last_day - written).days / max(1, (due - written).days if due else 180)
        share = max(0.0, min(1.1, elapsed * (0.3 + demo_account.fit) + rng.uniform(-0.15, 0.1)))
        owners = demo_account.contacts_with("kpi_owner") or demo_account.contacts_with("champion")
        kpis.append(
            PlanKpi(
                objective=objectives[index],
                name=kpi.name,
                unit=kpi.unit,
                baseline=baseline,
                target=target,
                current=_kpi_current(rng, baseline, target, share)
                if plan.status == PlanStatus.AGREED
                else None,
                due_on=due,
                owner=owners[0].contact if owners else None,
            )
        )
    ctx.bulk_create(PlanKpi, kpis)
    ctx.bulk_create(PlanMilestone, plan_milestones)
    ctx.bulk_create(PlanStakeholder, stakeholders)

    rows = []
    for plan, _demo_account, _template_used, _written in pending:
        rows.append(
            timeline_row(
                account_id=plan.account_id,
                kind="plan_changed",
                occurred_at=plan.created_at,
                title=f"Success plan created: {plan.title}",
                subject_type_id=plan_type,
                subject_id=plan.pk,
                data={"change": "created", "what": plan.title},
                actor_id=plan.created_by_id,
            )
        )
        if plan.agreed_on is not None and plan.agreed_by is not None:
            what = f"{plan.agreed_by.name}, {plan.agreed_on.isoformat()}"
            rows.append(
                timeline_row(
                    account_id=plan.account_id,
                    kind="plan_changed",
                    occurred_at=_moment(ctx, plan.agreed_on, rng),
                    title=f"Success plan agreed: {what}",
                    subject_type_id=plan_type,
                    subject_id=plan.pk,
                    data={"change": "agreed", "what": what},
                    actor_id=plan.created_by_id,
                )
            )
    ctx.insert_rows(TimelineEntry, TIMELINE_COLUMNS, [r for r in rows if r[2] < ctx.end])
    ctx.shared["success-plans"] = {"plans": len(plans)}


register_data(
    "success plans",
    label=_("success plans"),
    count=lambda: SuccessPlan.objects.count(),
    delete=lambda: SuccessPlan.objects.all().delete(),
    order=25,
)
