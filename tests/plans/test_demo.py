"""Demo step "success-plans": plans on the high-touch accounts, some agreed, KPIs on their way."""

from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command

from touchpoint.accounts.models import EngagementModel, TimelineEntry
from touchpoint.plans.models import PlanKpi, PlanStatus, SuccessPlan
from touchpoint.plans.selectors import plan_of, plan_view

pytestmark = pytest.mark.django_db

TODAY = date(2026, 3, 2)


def test_high_touch_accounts_have_plans_some_agreed_with_kpis_progressing():
    call_command("demo", "--accounts=40", "--days=120", f"--today={TODAY.isoformat()}", stdout=StringIO())
    plans = list(SuccessPlan.objects.select_related("account", "agreed_by"))
    assert plans
    assert {p.account.engagement_model for p in plans} <= {EngagementModel.HIGH_TOUCH, EngagementModel.HYBRID}
    agreed = [p for p in plans if p.status == PlanStatus.AGREED]
    assert agreed
    assert all(p.agreed_by.account_id == p.account_id and p.agreed_on < TODAY for p in agreed)
    moving = PlanKpi.objects.filter(current__isnull=False, objective__plan__status=PlanStatus.AGREED)
    assert moving.exists()
    progresses = [plan_view(plan_of(p.account), today=TODAY).progress for p in agreed]
    assert any(value is not None and 0 < value < 100 for value in progresses)
    entries = TimelineEntry.objects.filter(kind="plan_changed")
    assert entries.filter(data__change="created").count() == len(plans)
    assert entries.filter(data__change="agreed").count() == len(agreed)
