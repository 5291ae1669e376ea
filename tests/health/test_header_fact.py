"""The account header's risk: the latest health grade and score, and the trend over 30 days."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import AccountFactory
from touchpoint.health.models import HealthScore, Scorecard
from touchpoint.health.services import ensure_default_scorecard

pytestmark = pytest.mark.django_db


def _scores(account, *by_days_ago):
    ensure_default_scorecard()
    version = Scorecard.objects.get().current_version
    today = timezone.localdate()
    HealthScore.objects.bulk_create(
        HealthScore(
            account=account, day=today - timedelta(days=ago), version=version, score=score, grade=grade
        )
        for ago, score, grade in by_days_ago
    )


def _header(client, account) -> str:
    return client.get(reverse("account-detail", args=[account.pk])).content.decode()


@pytest.mark.parametrize(
    ("before", "after", "trend", "shown"),
    [(80.0, 41.0, "down", "↓ -39"), (40.0, 72.0, "up", "↑ +32"), (60.0, 61.0, "steady", "→")],
)
def test_header_shows_grade_score_and_trend_over_30_days(csm_client, csm, before, after, trend, shown):
    account = AccountFactory(owner=csm)
    grade = "green" if after >= 70 else "yellow" if after >= 50 else "red"
    _scores(account, (31, before, "green"), (10, 50.0, "yellow"), (0, after, grade))
    page = _header(csm_client, account)
    assert f'data-grade="{grade}">{after:.0f}</span>' in page
    assert f'data-trend="{trend}"' in page and shown in page


def test_header_without_a_month_old_score_shows_no_trend(csm_client, csm):
    account = AccountFactory(owner=csm)
    _scores(account, (5, 30.0, "red"), (0, 35.0, "red"))
    page = _header(csm_client, account)
    assert 'data-grade="red"' in page and "data-trend" not in page


def test_header_of_an_account_never_scored_says_so(csm_client, csm):
    page = _header(csm_client, AccountFactory(owner=csm))
    assert "Not scored yet" in page
