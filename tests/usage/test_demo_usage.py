"""The demo company's product usage: a weekday rhythm, growth and decline, rollups that add up."""

from collections import defaultdict
from datetime import date, timedelta

import pytest
from django.core.management import call_command

from tests.conftest import demo_once_per_module
from touchpoint.usage.models import DailyAccountRollup, KeyFeature, RawEvent

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 20)


demo_company = demo_once_per_module(
    "--accounts", "60", "--days", "200", "--seed", "7", "--today", TODAY.isoformat()
)


def test_demo_events_have_a_weekday_rhythm_and_both_growth_and_decline(demo_company):
    assert RawEvent.objects.count() > 1000 and KeyFeature.objects.count() == 5
    by_weekday = defaultdict(int)
    first, last = defaultdict(int), defaultdict(int)
    for row in DailyAccountRollup.objects.all():
        by_weekday[row.day.weekday() < 5] += row.events
        if row.day <= TODAY - timedelta(days=60):
            first[row.account_id] += row.events
        elif row.day > TODAY - timedelta(days=30):
            last[row.account_id] += row.events
    assert by_weekday[True] > 5 * by_weekday[False]
    steady = [a for a in first if first[a] >= 8]  # poor fits are small users: a low bar keeps them in
    assert any(last[a] > first[a] for a in steady), "no account grows"
    assert any(last[a] < first[a] / 2 for a in steady), "no account declines"
    assert RawEvent.objects.filter(day__gte=TODAY).count() == 0  # nothing from today's future hours


def test_demo_rollups_match_a_rebuild(demo_company):
    before = sorted(DailyAccountRollup.objects.values_list("account_id", "day", "events", "active_users"))
    call_command("usage", "rebuild")
    assert (
        sorted(DailyAccountRollup.objects.values_list("account_id", "day", "events", "active_users"))
        == before
    )
