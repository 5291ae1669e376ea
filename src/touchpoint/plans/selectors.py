"""Reads of success plans the plan page, the account panel, the shared page, the PDF and the API share."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Prefetch
from django.utils import timezone

from touchpoint.accounts.models import Account, Contact
from touchpoint.plans.metrics import kpi_progress, plan_progress
from touchpoint.plans.models import (
    PlanKpi,
    PlanMilestone,
    PlanMilestoneStatus,
    PlanObjective,
    PlanShareLink,
    PlanStakeholder,
    StakeholderRole,
    SuccessPlan,
)
from touchpoint.plans.services import plan_frameworks, token_hash
from touchpoint.success.models import MilestoneDefinition, MilestoneReached


def plan_of(account: Account | int) -> SuccessPlan | None:
    """The account's plan with everything a page shows, in a fixed number of queries."""
    account_id = account.pk if isinstance(account, Account) else account
    return (
        SuccessPlan.objects.filter(account_id=account_id)
        .select_related("account", "framework", "agreed_by")
        .prefetch_related(
            Prefetch(
                "objectives",
                queryset=PlanObjective.objects.prefetch_related(
                    Prefetch("kpis", queryset=PlanKpi.objects.select_related("owner"))
                ),
            ),
            Prefetch(
                "stakeholders",
                queryset=PlanStakeholder.objects.select_related("contact").order_by("role", "id"),
            ),
            Prefetch("milestones", queryset=PlanMilestone.objects.select_related("milestone")),
        )
        .first()
    )


@dataclass
class KpiRow:
    kpi: PlanKpi
    progress: float | None  # 0..1

    @property
    def percent(self) -> int | None:
        return None if self.progress is None else round(100 * self.progress)


@dataclass
class ObjectiveRow:
    objective: PlanObjective
    kpis: list[KpiRow]


@dataclass
class MilestoneRow:
    milestone: PlanMilestone
    reached_on: date | None  # the tracked framework milestone's day, when the account reached it

    @property
    def done(self) -> bool:
        return self.milestone.status == PlanMilestoneStatus.DONE or self.reached_on is not None

    def done_by(self, day: date) -> bool:
        """Done as of `day` (what the health measure counts for that day)."""
        m = self.milestone
        if m.status == PlanMilestoneStatus.DONE and (m.done_on is None or m.done_on <= day):
            return True
        return self.reached_on is not None and self.reached_on <= day

    @property
    def overdue(self) -> bool:
        due = self.milestone.due_on
        return not self.done and due is not None and due < timezone.localdate()


@dataclass
class PlanView:
    """A plan as people read it: objectives with their KPIs' progress, stakeholders by role, milestones
    with what the account has reached, and the plan's progress (the health measure's number)."""

    plan: SuccessPlan
    objectives: list[ObjectiveRow]
    milestones: list[MilestoneRow]
    stakeholders: dict[str, list[PlanStakeholder]] = field(default_factory=dict)
    progress: float | None = None

    @property
    def stakeholder_groups(self) -> list[tuple[str, list[PlanStakeholder]]]:
        return [(str(role.label), self.stakeholders.get(role.value, [])) for role in StakeholderRole]


def reached_days(account_id: int, milestone_ids: set[int]) -> dict[int, date]:
    """The day the account reached each of these framework milestones (only those reached)."""
    if not milestone_ids:
        return {}
    return dict(
        MilestoneReached.objects.filter(account_id=account_id, milestone_id__in=milestone_ids).values_list(
            "milestone_id", "reached_on"
        )
    )


def plan_view(plan: SuccessPlan, *, today: date | None = None) -> PlanView:
    today = today or timezone.localdate()
    objectives = [
        ObjectiveRow(
            objective=objective,
            kpis=[
                KpiRow(
                    kpi=kpi,
                    progress=kpi_progress(baseline=kpi.baseline, target=kpi.target, current=kpi.current),
                )
                for kpi in objective.kpis.all()
            ],
        )
        for objective in plan.objectives.all()
    ]
    milestones = list(plan.milestones.all())
    reached = reached_days(plan.account_id, {m.milestone_id for m in milestones if m.milestone_id})
    rows = [
        MilestoneRow(milestone=m, reached_on=reached.get(m.milestone_id) if m.milestone_id else None)
        for m in milestones
    ]
    stakeholders: dict[str, list[PlanStakeholder]] = {}
    for stakeholder in plan.stakeholders.all():
        stakeholders.setdefault(stakeholder.role, []).append(stakeholder)
    due = [row for row in rows if row.milestone.due_on is not None and row.milestone.due_on <= today]
    progress = plan_progress(
        kpi_progresses=[k.progress for o in objectives for k in o.kpis],
        milestones_due=len(due),
        milestones_done=sum(row.done_by(today) for row in due),
    )
    return PlanView(
        plan=plan, objectives=objectives, milestones=rows, stakeholders=stakeholders, progress=progress
    )


def account_contacts(account: Account) -> list[Contact]:
    return list(Contact.objects.filter(account=account).order_by("name", "id"))


def trackable_milestones(account: Account, plan: SuccessPlan | None) -> list[MilestoneDefinition]:
    """Framework milestones a plan milestone of this account may track."""
    return list(
        MilestoneDefinition.objects.filter(framework_id__in=plan_frameworks(account, plan)).order_by(
            "framework_id", "position", "id"
        )
    )


def share_links(plan: SuccessPlan) -> list[PlanShareLink]:
    return list(plan.share_links.select_related("created_by")[:20])


def link_for_token(token: str) -> PlanShareLink | None:
    """The share link a token opens (revoked and expired ones too: the page says which)."""
    if not token or len(token) > 200:
        return None
    return (
        PlanShareLink.objects.select_related("plan", "plan__account")
        .filter(token_hash=token_hash(token))
        .first()
    )


def link_is_open(link: PlanShareLink) -> bool:
    return link.revoked_at is None and link.expires_at > timezone.now() and link.plan.status != "closed"
