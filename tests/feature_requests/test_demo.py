"""Demo step "feature-requests": about forty requests asked by the demo accounts over the history,
a mix of statuses, one pair merged and one suggested, one shipped days ago with its owners' tasks."""

from __future__ import annotations

from collections import Counter

import pytest
from django.utils import timezone

from tests.conftest import demo_once_per_module
from touchpoint.accounts.models import TimelineEntry
from touchpoint.feature_requests import selectors
from touchpoint.feature_requests.models import Ask, FeatureRequest, RequestLink, Status
from touchpoint.tasks.models import Task, TaskStatus

pytestmark = pytest.mark.django_db

company = demo_once_per_module("--accounts=60", "--days=300", "--seed=5", f"--today={timezone.localdate()}")


def test_the_demo_has_ranked_requests_with_every_status(company):
    statuses = Counter(
        FeatureRequest.objects.filter(merged_into__isnull=True).values_list("status", flat=True)
    )
    assert set(statuses) == set(Status.values)
    assert 35 <= sum(statuses.values()) <= 45
    rows = selectors.ranked(selectors.Filters(status=""))
    assert rows[0].stake.total > rows[-1].stake.total > 0 or rows[-1].stake.total == 0
    assert any(row.stake.renewal_boost or row.stake.health_boost for row in rows)
    assert RequestLink.objects.count() > 60 and Ask.objects.count() > RequestLink.objects.count()
    end = timezone.now()
    assert not Ask.objects.filter(asked_at__gt=end).exists()
    assert TimelineEntry.objects.filter(kind="feature_requested").count() == Ask.objects.count()


def test_one_pair_is_merged_and_one_is_suggested(company):
    merged = FeatureRequest.objects.get(merged_into__isnull=False)
    assert merged.title == "CSV export of the reports" and merged.merged_into.title == "Export reports to CSV"
    pairs = {(p.first.title, p.second.title) for p in selectors.suggested_duplicates()}
    assert ("Slack notifications for health drops", "Notify in Slack when health drops") in pairs


def test_the_latest_shipped_request_left_open_tasks_for_its_owners(company):
    fresh = FeatureRequest.objects.get(title="Export reports to CSV")
    assert fresh.status == Status.SHIPPED and fresh.owners_told_at is not None
    tasks = Task.objects.filter(about_url=f"/feature-requests/{fresh.pk}/")
    owners = set(fresh.links.values_list("account__owner_id", flat=True)) - {None}
    assert set(tasks.values_list("owner_id", flat=True)) == owners
    assert set(tasks.values_list("status", flat=True)) == {TaskStatus.OPEN}
    older = Task.objects.filter(about_url__startswith="/feature-requests/").exclude(pk__in=tasks)
    assert older.exists() and set(older.values_list("status", flat=True)) == {TaskStatus.DONE}
    assert TimelineEntry.objects.filter(kind="feature_shipped").exists()
