"""Time to value: start dates, median/p75/histogram, by segment and cohort, on the page and in the API."""

from __future__ import annotations

import statistics
from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import logged_in_client
from tests.factories import AccountFactory, FrameworkFactory, SegmentFactory, SubscriptionFactory
from touchpoint.success.milestone_selectors import (
    BUCKETS,
    account_start_dates,
    histogram,
    parse_cohort,
    percentile,
    stats_of,
    time_to_value,
)
from touchpoint.success.models import AccountPlacement, MilestoneDefinition, MilestoneReached

# --- The numbers ---------------------------------------------------------------------------------


@given(st.lists(st.integers(min_value=0, max_value=5000), min_size=1, max_size=200))
def test_median_is_the_statistics_median_and_p75_lies_between_it_and_the_max(values):
    assert percentile(values, 50) == pytest.approx(statistics.median(values))
    p75 = percentile(values, 75)
    assert statistics.median(values) <= p75 <= max(values)
    assert percentile(values, 0) == min(values) and percentile(values, 100) == max(values)


@given(st.lists(st.integers(min_value=0, max_value=5000), max_size=200))
def test_every_value_falls_in_exactly_one_bucket(values):
    buckets = histogram(values)
    assert sum(b.count for b in buckets) == len(values)
    assert [(b.low, b.high) for b in buckets] == list(BUCKETS)
    for value in values:
        (found,) = [b for b in buckets if value >= b.low and (b.high is None or value <= b.high)]
        assert found.count >= 1


def test_stats_by_hand():
    stats = stats_of([1, 2, 3, 4, 100])
    assert (stats.count, stats.median, stats.p75) == (5, 3, 4)
    assert [b.count for b in stats.histogram] == [4, 0, 0, 0, 0, 1, 0]
    assert stats_of([]).median is None


def test_cohorts_parse_only_months():
    assert parse_cohort("2026-03") == date(2026, 3, 1)
    for bad in ("2026-13", "0001-01", "March", "2026-3-1", ""):
        assert parse_cohort(bad) is None


# --- Start dates and the page ---------------------------------------------------------------------


def _created(account, day: date) -> None:
    type(account).objects.filter(pk=account.pk).update(
        created_at=timezone.make_aware(datetime.combine(day, datetime.min.time().replace(hour=9)))
    )


@pytest.mark.django_db
def test_the_start_is_the_placement_then_the_first_subscription_then_the_creation():
    placed, subscribed, bare = AccountFactory(), AccountFactory(), AccountFactory()
    for account in (placed, subscribed, bare):
        _created(account, date(2025, 5, 5))
    AccountPlacement.objects.create(account=placed, started_on=date(2025, 6, 1))
    SubscriptionFactory(account=placed, started_on=date(2025, 7, 1))
    SubscriptionFactory(account=subscribed, started_on=date(2025, 8, 1))
    SubscriptionFactory(account=subscribed, started_on=date(2025, 7, 15))
    assert account_start_dates() == {
        placed.pk: date(2025, 6, 1),
        subscribed.pk: date(2025, 7, 15),
        bare.pk: date(2025, 5, 5),
    }
    assert account_start_dates([bare.pk]) == {bare.pk: date(2025, 5, 5)}


@pytest.fixture
def reached(db):
    """Five accounts of the default framework: days to first value 5, 10, 20 (SMB) and 40 (Enterprise),
    one that never reached it; and a second milestone 30 days after the first for two of them."""
    framework = FrameworkFactory()
    first = MilestoneDefinition.objects.create(
        framework=framework,
        key="first-report",
        name="First report",
        rule={"event": "x"},
        is_first_value=True,
        position=1,
    )
    later = MilestoneDefinition.objects.create(
        framework=framework, key="roi", name="ROI", kind="outcome", position=2
    )
    smb, enterprise = SegmentFactory(name="SMB"), SegmentFactory(name="Enterprise")
    start = date(2026, 1, 10)
    accounts = []
    for days, segment, month in (
        (5, smb, 1),
        (10, smb, 1),
        (20, smb, 2),
        (40, enterprise, 2),
        (None, smb, 2),
    ):
        account = AccountFactory(segment=segment, name=f"TTV {days}")
        began = start.replace(month=month)
        _created(account, began)
        if days is not None:
            MilestoneReached.objects.create(
                account=account, milestone=first, reached_on=began + timedelta(days), source="rule"
            )
            if days <= 10:
                MilestoneReached.objects.create(
                    account=account, milestone=later, reached_on=began + timedelta(days + 30), source="manual"
                )
        accounts.append(account)
    return framework, smb, accounts


def test_time_to_value_by_segment_cohort_and_between_milestones(reached):
    framework, smb, _accounts = reached
    found = time_to_value(framework=framework)
    assert (found.accounts, found.reached) == (5, 4)
    assert (found.overall.median, found.overall.p75) == (15, 25)
    assert [(name, s.median) for name, s in found.by_segment] == [("Enterprise", 40), ("SMB", 10)]
    assert [(month, s.count) for month, s in found.by_cohort] == [
        (date(2026, 1, 1), 2),
        (date(2026, 2, 1), 2),
    ]
    assert [
        (s.previous.key if s.previous else None, s.milestone.key, s.stats.median) for s in found.steps
    ] == [
        (None, "first-report", 15),
        ("first-report", "roi", 30),
    ]
    only_smb = time_to_value(framework=framework, segment_id=smb.pk, cohort=date(2026, 2, 1))
    assert (only_smb.accounts, only_smb.reached, only_smb.overall.median) == (2, 1, 20)


def test_the_page_shows_the_numbers_and_a_chart(reached, viewer):
    framework, smb, _accounts = reached
    response = logged_in_client(viewer).get("/success/time-to-value/", {"framework": framework.pk})
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="ttv-median">15 days' in body and "<svg" in body
    assert "Enterprise" in body
    filtered = logged_in_client(viewer).get(
        "/success/time-to-value/", {"segment": smb.pk, "cohort": "2026-02"}
    )
    assert 'id="ttv-median">20 days' in filtered.content.decode()
    bad = logged_in_client(viewer).get("/success/time-to-value/", {"cohort": "soon"})
    assert bad.status_code == 200 and "YYYY-MM" in bad.content.decode()


def test_the_api_answers_the_same_numbers(reached, viewer_api):
    framework, smb, _accounts = reached
    body = viewer_api.get(f"/success/time-to-value?framework={framework.pk}").json()
    assert body["first_value"] == "first-report"
    assert (body["overall"]["median"], body["overall"]["p75"], body["reached"]) == (15, 25, 4)
    assert [c["cohort"] for c in body["by_cohort"]] == ["2026-01", "2026-02"]
    assert (
        body["steps"][1]
        == {
            "milestone": "roi",
            "previous": "first-report",
            "stats": body["steps"][1]["stats"],
        }
        and body["steps"][1]["stats"]["median"] == 30
    )
    assert viewer_api.get("/success/time-to-value?cohort=2026-13").status_code == 422
    assert viewer_api.get(f"/success/time-to-value?framework={2**63}").status_code == 422
    assert viewer_api.get(f"/success/time-to-value?framework={2**62}").status_code == 404


def test_csms_who_read_only_their_book_count_only_their_accounts(reached, csm, own_books_only):
    framework, _smb, accounts = reached
    type(accounts[0]).objects.filter(pk=accounts[0].pk).update(owner=csm)
    response = logged_in_client(csm).get("/success/time-to-value/", {"framework": framework.pk})
    assert 'id="ttv-reached">1 of 1 accounts' in response.content.decode()
