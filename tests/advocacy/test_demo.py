"""The demo company has advocates at healthy accounts, what they did over the history, asks in every
status (never more than the limit in a quarter), rewards, and a pool to ask from."""

from __future__ import annotations

from collections import Counter

import pytest
from django.db.models import Count
from django.utils import timezone

from tests.conftest import demo_once_per_module
from touchpoint.accounts.models import TimelineEntry
from touchpoint.advocacy import selectors, services
from touchpoint.advocacy.models import Activity, ActivityKind, Advocate, Ask, AskStatus, Reward
from touchpoint.users.models import User

pytestmark = pytest.mark.django_db

company = demo_once_per_module("--accounts=60", "--days=400", "--seed=5", f"--today={timezone.localdate()}")


def test_the_demo_has_advocates_at_healthy_accounts_with_their_history(company):
    advocates = Advocate.objects.all()
    assert advocates.count() >= 5
    grades = {advocate.account_id: selectors.contact_record(advocate.contact).grade for advocate in advocates}
    assert set(grades.values()) == {"green"}
    kinds = set(Activity.objects.values_list("kind", flat=True))
    assert {ActivityKind.REFERENCE_CALL, ActivityKind.REVIEW} <= kinds and len(kinds) >= 4
    days = Activity.objects.order_by("occurred_on").values_list("occurred_on", flat=True)
    assert (days.last() - days.first()).days > 120  # over the history, not one day
    assert Reward.objects.exists()


def test_the_demo_has_asks_in_every_status_within_the_quarter_limit(company):
    statuses = Counter(Ask.objects.values_list("status", flat=True))
    assert set(statuses) == set(AskStatus.values)
    # A done ask is an activity.
    assert Activity.objects.filter(ask__isnull=False).count() == statuses[AskStatus.DONE]
    per_quarter = Counter(
        (contact_id, services.quarter_of(day)[0])
        for contact_id, day in Ask.objects.values_list("contact_id", "asked_on")
    )
    assert max(per_quarter.values()) <= 2


def test_the_demo_timeline_has_asks_activities_and_rewards(company):
    kinds = dict(
        TimelineEntry.objects.filter(kind__startswith="advocacy_").values_list("kind").annotate(n=Count("id"))
    )
    assert kinds["advocacy_activity"] == Activity.objects.count()
    assert kinds["advocacy_reward"] == Reward.objects.count()
    assert kinds["advocacy_ask"] >= Ask.objects.count()


def test_the_demo_pool_has_promoters_to_ask(company):
    admin = User.objects.get(email="admin@demo.touchpoint.local")
    rows = list(selectors.pool(admin)[:20])
    assert rows and {row.grade for row in rows} == {"green"}
