"""The health measure "success_plan_progress": the SQL agrees with metrics.plan_progress, reads
milestones as of the scored day, and says nothing for accounts without a (live) plan."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from tests.factories import AccountFactory
from touchpoint.health.measures import AsOf, get_measure, measured_sql
from touchpoint.plans import selectors, services
from touchpoint.plans.health_measures import MEASURE
from touchpoint.plans.metrics import kpi_progress, plan_progress
from touchpoint.plans.models import PlanMilestone
from touchpoint.success.models import MilestoneReached

pytestmark = pytest.mark.django_db
# The plans are written today, so the days scored are today and after (a plan counts from its writing).
TODAY = timezone.localdate()


def _values(day: date) -> dict[int, float]:
    sql, params = measured_sql(AsOf(day), keys=[MEASURE])
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH {sql} SELECT account_id, value FROM measured WHERE measure = %s", [*params, MEASURE]
        )
        return dict(cursor.fetchall())


def test_the_measure_is_registered_from_the_plans_app():
    measure = get_measure(MEASURE)
    assert measure is not None and measure.source == "plans"


def test_no_plan_a_closed_plan_and_nothing_measurable_have_no_value(placed, csm):
    bare = AccountFactory(owner=csm)
    assert bare.pk not in _values(TODAY)
    plan = services.create_plan(account=placed, actor=csm, today=TODAY)
    # Written today: no KPI has a current value and no milestone is due yet.
    assert placed.pk not in _values(TODAY)
    kpi = plan.objectives.get().kpis.get()
    services.change_kpi(
        kpi=kpi,
        values=services.KpiValues(name=kpi.name, baseline=Decimal(10), target=Decimal(5), current=Decimal(8)),
        actor=csm,
    )
    assert _values(TODAY)[placed.pk] == pytest.approx(40.0)
    services.close_plan(plan=plan, actor=csm)
    assert placed.pk not in _values(TODAY)


def test_milestones_count_as_of_the_scored_day(placed, csm):
    plan = services.create_plan(account=placed, actor=csm, today=TODAY)
    kickoff, report = plan.milestones.all()  # due TODAY+14 and TODAY+30, the second tracks first-report
    PlanMilestone.objects.filter(pk=kickoff.pk).update(status="done", done_on=TODAY + timedelta(days=20))
    MilestoneReached.objects.create(
        account=placed, milestone=report.milestone, reached_on=TODAY + timedelta(days=40), source="rule"
    )
    assert placed.pk not in _values(TODAY + timedelta(days=13))  # nothing due yet
    assert placed.pk not in _values(TODAY - timedelta(days=1))  # before the plan was written
    assert _values(TODAY + timedelta(days=14))[placed.pk] == 0.0  # kick-off due, not done that day
    assert _values(TODAY + timedelta(days=20))[placed.pk] == 100.0  # done on the 20th
    assert _values(TODAY + timedelta(days=30))[placed.pk] == 50.0  # first report due, reached later
    assert _values(TODAY + timedelta(days=40))[placed.pk] == 100.0
    # The page says the same as the measure.
    view = selectors.plan_view(selectors.plan_of(placed), today=TODAY + timedelta(days=30))
    assert view.progress == 50.0


def test_kpis_and_milestones_weigh_half_each(placed, csm):
    plan = services.create_plan(account=placed, actor=csm, today=TODAY)
    kpi = plan.objectives.get().kpis.get()
    services.change_kpi(
        kpi=kpi,
        values=services.KpiValues(name=kpi.name, baseline=Decimal(10), target=Decimal(5), current=Decimal(5)),
        actor=csm,
    )
    day = TODAY + timedelta(days=14)  # the kick-off is due and not done
    assert _values(day)[placed.pk] == pytest.approx(50.0)
    assert selectors.plan_view(selectors.plan_of(placed), today=day).progress == pytest.approx(50.0)


numbers = st.decimals(min_value=-(10**6), max_value=10**6, places=2, allow_nan=False, allow_infinity=False)


@given(baseline=numbers, target=numbers, current=numbers)
def test_kpi_progress_stays_between_0_and_1_and_is_1_at_the_target(baseline, target, current):
    progress = kpi_progress(baseline=baseline, target=target, current=current)
    if target == baseline:
        assert progress is None
    else:
        assert 0.0 <= progress <= 1.0
        assert kpi_progress(baseline=baseline, target=target, current=target) == 1.0
        assert kpi_progress(baseline=baseline, target=target, current=baseline) == 0.0


@given(
    kpis=st.lists(st.one_of(st.none(), st.floats(min_value=0, max_value=1)), max_size=10),
    due=st.integers(min_value=0, max_value=20),
    done=st.integers(min_value=0, max_value=20),
)
def test_plan_progress_is_a_percentage_or_none_when_nothing_is_measurable(kpis, due, done):
    progress = plan_progress(kpi_progresses=kpis, milestones_due=due, milestones_done=min(done, due))
    if not any(p is not None for p in kpis) and due == 0:
        assert progress is None
    else:
        assert progress is not None and 0.0 <= progress <= 100.0
