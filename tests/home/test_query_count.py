"""The home page costs a fixed number of queries, whether the book holds 30 accounts or 300."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from touchpoint.accounts.models import Account, Engagement, TimelineEntry
from touchpoint.health.models import HealthScore
from touchpoint.health.services import ensure_default_scorecard
from touchpoint.home.models import Alert

pytestmark = pytest.mark.django_db

# Every registered section costs a few fixed queries (tasks, renewals, health, alerts, meetings…): the
# bound grows with sections, never with the book; the test below proves the second half.
MAX_QUERIES = 30


def build_book(owner, size: int) -> None:
    """`size` accounts of every engagement model, each with a week of scores (a third falling), a
    touch, a meeting ahead and an alert."""
    now = timezone.now()
    today = timezone.localdate()
    long_ago = now - timedelta(days=200)
    models = ["high", "hybrid", "low"]
    accounts = Account.objects.bulk_create(
        [
            Account(
                name=f"Book {owner.pk}-{n:03d}",
                owner=owner,
                engagement_model=models[n % 3],
                created_at=long_ago,
            )
            for n in range(size)
        ]
    )
    version = ensure_default_scorecard().current_version
    scores = []
    for n, account in enumerate(accounts):
        falling = n % 3 == 0
        scores.append(
            HealthScore(
                account=account,
                day=today - timedelta(days=7),
                version_id=version.pk,
                score=80,
                grade="green",
                measures={"usage_trend": {"value": 1, "points": 80, "weight": 1}},
            )
        )
        scores.append(
            HealthScore(
                account=account,
                day=today,
                version_id=version.pk,
                score=30 if falling else 80,
                grade="red" if falling else "green",
                measures={"usage_trend": {"value": 1, "points": 30 if falling else 80, "weight": 1}},
            )
        )
    HealthScore.objects.bulk_create(scores)
    TimelineEntry.objects.bulk_create(
        [
            TimelineEntry(
                account=account, kind="call", title="Call", occurred_at=now - timedelta(days=(n * 7) % 100)
            )
            for n, account in enumerate(accounts)
        ]
    )
    Engagement.objects.bulk_create(
        [
            Engagement(
                account=account,
                kind="meeting",
                subject=f"Review {n}",
                occurred_at=now + timedelta(hours=n + 1),
            )
            for n, account in enumerate(accounts)
        ]
    )
    Alert.objects.bulk_create(
        [
            Alert(
                recipient=owner,
                account=account,
                kind="health.grade_changed",
                title=f"Alert {n}",
                data={"account": account.name, "from": "green", "to": "red"},
                url="/",
            )
            for n, account in enumerate(accounts)
        ]
    )


def queries_for(client, user) -> int:
    client.force_login(user)
    client.get(reverse("my-day"))  # warm: sessions, site settings, content types
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("my-day"))
    assert response.status_code == 200
    return len(captured)


def test_the_home_page_costs_the_same_for_30_and_300_accounts(client, django_assert_max_num_queries):
    from tests.factories import UserFactory

    small, large = UserFactory(), UserFactory()
    build_book(small, 30)
    build_book(large, 300)
    small_count = queries_for(client, small)
    large_count = queries_for(client, large)
    assert small_count == large_count
    client.force_login(large)
    with django_assert_max_num_queries(MAX_QUERIES):
        page = client.get(reverse("my-day")).content.decode()
    # The book is really on the page: falls, silent accounts, meetings and alerts, each cut at ten.
    assert page.count('class="grade small grade-red"') == 10
    assert "Review 0" in page and "Health of Book" in page
    assert "90 more accounts" in page  # 100 fell; 10 shown
