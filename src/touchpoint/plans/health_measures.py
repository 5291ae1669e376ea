"""The health measure success plans provide: how far the account's plan has come.

Registered from PlansConfig.ready(). The value is the mean of two shares, each when it has something to
say: the KPIs' progress from baseline toward target (each KPI 0 to 1, metrics.kpi_progress) and the plan
milestones due by the scored day that are done (or whose tracked framework milestone was reached by
then). No plan, a closed plan, or a plan with nothing measurable yet: no value (unknown, not a failure).

Milestones read as of the scored day (due dates, done dates, reached dates). KPIs keep no history of
their values, so a past day is scored with today's values; the back-test over that measure is only as
good as that.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from touchpoint.health.measures import AsOf, Measure, MeasureSource, register_measure, register_source
from touchpoint.plans.models import PlanKpi, PlanMilestone, PlanObjective, PlanStatus, SuccessPlan
from touchpoint.success.models import MilestoneReached

MEASURE = "success_plan_progress"


def _plan_sql(at: AsOf) -> tuple[str, list]:
    ratio = (
        f"({at.as_float('kpi.current')} - {at.as_float('kpi.baseline')})"
        f" / ({at.as_float('kpi.target')} - {at.as_float('kpi.baseline')})"
    )
    clamped = f"CASE WHEN {ratio} < 0 THEN 0.0 WHEN {ratio} > 1 THEN 1.0 ELSE {ratio} END"
    plans, objectives, kpis = SuccessPlan._meta.db_table, PlanObjective._meta.db_table, PlanKpi._meta.db_table
    milestones, reached = PlanMilestone._meta.db_table, MilestoneReached._meta.db_table
    sql = f"""
        SELECT p.account_id,
               CASE WHEN k.n > 0 AND m.due > 0 THEN 50.0 * k.total / k.n + 50.0 * m.done / m.due
                    WHEN k.n > 0 THEN 100.0 * k.total / k.n
                    WHEN m.due > 0 THEN 100.0 * m.done / m.due END AS plan_progress
        FROM {plans} p
        LEFT JOIN (
            SELECT o.plan_id, COUNT(*) AS n, SUM({clamped}) AS total
            FROM {kpis} kpi JOIN {objectives} o ON o.id = kpi.objective_id
            WHERE kpi.baseline IS NOT NULL AND kpi.target IS NOT NULL AND kpi.current IS NOT NULL
              AND kpi.target <> kpi.baseline
            GROUP BY o.plan_id
        ) k ON k.plan_id = p.id
        LEFT JOIN (
            SELECT pm.plan_id, COUNT(*) AS due,
                   SUM(CASE WHEN (pm.status = 'done' AND (pm.done_on IS NULL OR pm.done_on <= %s))
                                 OR r.id IS NOT NULL THEN 1 ELSE 0 END) AS done
            FROM {milestones} pm
            JOIN {plans} owner ON owner.id = pm.plan_id
            LEFT JOIN {reached} r ON r.milestone_id = pm.milestone_id AND r.account_id = owner.account_id
                                  AND r.reached_on <= %s
            WHERE pm.due_on IS NOT NULL AND pm.due_on <= %s
            GROUP BY pm.plan_id
        ) m ON m.plan_id = p.id
        WHERE p.status <> %s AND p.created_at < %s
    """
    return sql, [at.date(), at.date(), at.date(), PlanStatus.CLOSED.value, at.end]


def register() -> None:
    register_source(
        MeasureSource("plans", columns=("plan_progress",), query=_plan_sql, demo_step="success-plans")
    )
    register_measure(
        Measure(
            MEASURE,
            label=_("Success plan progress"),
            source="plans",
            column="plan_progress",
            unit="%",
            help=_(
                "How far the success plan has come: its KPIs' progress toward their targets and its "
                "milestones due that are done. No plan: unknown."
            ),
            weight=1,
            green=80,
            red=20,
            position=70,
        )
    )
