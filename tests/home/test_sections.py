"""The sections apps register on the home page: health falls, silent accounts, upcoming meetings."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import AccountFactory, EngagementFactory, UserFactory
from tests.home.helpers import score
from touchpoint.accounts.models import TimelineEntry
from touchpoint.health.home_sections import biggest_fall, grades_fallen
from touchpoint.home.account_sections import silent_accounts, upcoming_meetings
from touchpoint.home.selectors import scope_for
from touchpoint.users.models import SiteSettings

pytestmark = pytest.mark.django_db

TODAY = date(2026, 12, 1)
WEEK_AGO = TODAY - timedelta(days=7)


def test_an_account_whose_grade_fell_is_listed_with_the_measure_that_moved_it(client, csm):
    fell = AccountFactory(owner=csm, name="Falling Co")
    score(fell, WEEK_AGO, 75, "green", usage_trend=90, breadth=60, engagement_recency=80)
    score(fell, TODAY, 35, "red", usage_trend=20, breadth=55, engagement_recency=30)
    steady = AccountFactory(owner=csm, name="Steady Co")
    score(steady, WEEK_AGO, 50, "yellow", usage_trend=50)
    score(steady, TODAY, 45, "yellow", usage_trend=45)
    rose = AccountFactory(owner=csm, name="Rising Co")
    score(rose, WEEK_AGO, 30, "red", usage_trend=30)
    score(rose, TODAY, 80, "green", usage_trend=80)
    theirs = AccountFactory(owner=UserFactory(), name="Not Mine Co")
    score(theirs, WEEK_AGO, 80, "green", usage_trend=80)
    score(theirs, TODAY, 20, "red", usage_trend=20)

    data = grades_fallen(scope_for(csm))
    assert data["count"] == 1
    (item,) = data["items"]
    assert item["account"] == fell and (item["was"], item["grade"]) == ("green", "red")
    assert item["measure"] == "Usage trend"  # fell 70 points; recency fell 50, breadth 5

    client.force_login(csm)
    page = client.get(reverse("my-day")).content.decode()
    assert reverse("account-detail", kwargs={"account_id": fell.pk}) in page
    assert "Moved most by Usage trend" in page and "Steady Co" not in page


def test_the_week_before_is_the_last_score_on_or_before_it(csm):
    account = AccountFactory(owner=csm)
    score(account, WEEK_AGO - timedelta(days=2), 80, "green", usage_trend=80)  # a gap in the history
    score(account, TODAY, 30, "red", usage_trend=30)
    assert grades_fallen(scope_for(csm))["count"] == 1


def test_the_biggest_fall_weighs_points_as_the_score_does():
    before = {"a": {"points": 100, "weight": 1}, "b": {"points": 100, "weight": 3}}
    now = {"a": {"points": 20, "weight": 1}, "b": {"points": 60, "weight": 3}}
    # a: 25 → 5 (−20); b: 75 → 45 (−30): b moved the score most, though a lost more raw points.
    assert biggest_fall(now, before) == "b"
    assert biggest_fall(before, now) is None


def _touch(account, days_ago: int) -> None:
    TimelineEntry.objects.create(
        account=account, kind="call", title="Call", occurred_at=timezone.now() - timedelta(days=days_ago)
    )


def test_silent_accounts_follow_the_thresholds_of_their_engagement_model(client, csm):
    long_ago = timezone.now() - timedelta(days=400)
    high_quiet = AccountFactory(owner=csm, name="High Quiet", engagement_model="high", created_at=long_ago)
    _touch(high_quiet, 31)
    high_ok = AccountFactory(owner=csm, name="High Fine", engagement_model="high", created_at=long_ago)
    _touch(high_ok, 29)
    hybrid_quiet = AccountFactory(
        owner=csm, name="Hybrid Quiet", engagement_model="hybrid", created_at=long_ago
    )
    _touch(hybrid_quiet, 61)
    hybrid_ok = AccountFactory(owner=csm, name="Hybrid Fine", engagement_model="hybrid", created_at=long_ago)
    _touch(hybrid_ok, 45)
    low = AccountFactory(owner=csm, name="Low Never", engagement_model="low", created_at=long_ago)
    never = AccountFactory(owner=csm, name="High Never", engagement_model="high", created_at=long_ago)
    new = AccountFactory(owner=csm, name="High New", engagement_model="high")
    not_a_touch = AccountFactory(owner=csm, name="High Changed", engagement_model="high", created_at=long_ago)
    TimelineEntry.objects.create(account=not_a_touch, kind="account_changed", title="Changed")

    names = [item["account"].name for item in silent_accounts(scope_for(csm))["items"]]
    # Longest silent first: never touched since they were made (400 days), then by last touch.
    assert names == ["High Changed", "High Never", "Hybrid Quiet", "High Quiet"]
    assert low.name not in names and new.name not in names and high_ok.name not in names
    assert hybrid_ok.name not in names and never.name in names

    site = SiteSettings.current()
    site.silent_days_high_touch = 20
    site.save()
    names = {item["account"].name for item in silent_accounts(scope_for(csm))["items"]}
    assert "High Fine" in names

    client.force_login(csm)
    page = client.get(reverse("my-day")).content.decode()
    assert "High Quiet" in page and "31 days" in page


def test_a_touch_logged_in_the_future_does_not_count(csm):
    account = AccountFactory(
        owner=csm, engagement_model="high", created_at=timezone.now() - timedelta(days=100)
    )
    _touch(account, -3)  # a meeting planned in three days is not a touch yet
    assert silent_accounts(scope_for(csm))["count"] == 1


def test_upcoming_meetings_are_the_next_two_weeks_of_the_book(client, csm):
    mine = AccountFactory(owner=csm, name="Meeting Co")
    now = timezone.now()
    soon = EngagementFactory(
        account=mine, kind="meeting", subject="Quarterly review", occurred_at=now + timedelta(days=2)
    )
    EngagementFactory(account=mine, kind="meeting", subject="Too far", occurred_at=now + timedelta(days=20))
    EngagementFactory(
        account=mine, kind="meeting", subject="Already held", occurred_at=now - timedelta(days=1)
    )
    EngagementFactory(account=mine, kind="call", subject="A call", occurred_at=now + timedelta(days=1))
    EngagementFactory(
        account=AccountFactory(owner=UserFactory()),
        kind="meeting",
        subject="Not mine",
        occurred_at=now + timedelta(days=1),
    )
    data = upcoming_meetings(scope_for(csm))
    assert [item["meeting"] for item in data["items"]] == [soon]
    client.force_login(csm)
    page = client.get(reverse("my-day")).content.decode()
    assert "Quarterly review" in page and "Too far" not in page and "Not mine" not in page


def test_a_section_with_more_than_ten_items_counts_the_rest(csm):
    now = timezone.now()
    account = AccountFactory(owner=csm)
    for n in range(13):
        EngagementFactory(
            account=account, kind="meeting", subject=f"M{n}", occurred_at=now + timedelta(hours=n + 1)
        )
    data = upcoming_meetings(scope_for(csm))
    assert len(data["items"]) == 10 and data["count"] == 13 and data["more"] == 3
