"""The demo company's milestones: found in its usage, outcomes by hand for some, stalls for others."""

from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from touchpoint.accounts.models import TimelineEntry
from touchpoint.success.milestones import record_from_usage
from touchpoint.success.models import MilestoneDefinition, MilestoneReached

pytestmark = pytest.mark.django_db

TODAY = date(2026, 3, 2)


def test_the_demo_reaches_milestones_over_its_history_and_some_accounts_stall():
    call_command("demo", "--accounts=40", "--days=200", f"--today={TODAY.isoformat()}", stdout=StringIO())
    reaches = MilestoneReached.objects.all()
    assert reaches.filter(source="rule").count() > 40
    assert reaches.filter(source="manual").exists(), "some customers confirmed an outcome"
    first_value = MilestoneDefinition.objects.filter(is_first_value=True)
    reached_first = reaches.filter(milestone__in=first_value).values("account_id").distinct().count()
    outcomes = reaches.filter(milestone__kind="outcome").values("account_id").distinct().count()
    assert outcomes < reached_first, "some accounts stall between first value and the outcome"
    assert max(reaches.values_list("reached_on", flat=True)) < TODAY
    # Each reach is on its account's timeline, on the day it was reached.
    entries = TimelineEntry.objects.filter(kind="milestone_reached")
    assert entries.count() == reaches.count()
    sample = entries.order_by("id").first()
    reach = MilestoneReached.objects.get(pk=sample.subject_id)
    assert timezone.localdate(sample.occurred_at) == reach.reached_on
    # Recorded as the detection would: running it again finds nothing new.
    assert record_from_usage(as_of=date(2026, 3, 1)) == 0
