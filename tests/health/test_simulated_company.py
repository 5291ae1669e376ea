"""bench/companies.py: the second company health is judged on, unlike the demo (bench/health_truth.py)."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import numpy as np
import pytest
from bench.companies import add_months, generate_simulated_company, plan_accounts, tenure_months
from django.db.models import Count, Max, Sum

from touchpoint.accounts.models import Account, Contact
from touchpoint.health.backtest import Period, collect
from touchpoint.revenue.models import MrrMovement, Subscription
from touchpoint.usage.models import DailyAccountRollup, DailyEventRollup, ProductUser

TODAY = date(2026, 6, 30)
ACCOUNTS, DAYS = 240, 200


def _rows() -> list[tuple]:
    """The generated history, keyed by what the generator names (not by database ids)."""
    accounts = dict(Account.objects.values_list("pk", "external_id"))
    rollups = sorted(
        (accounts[account], day, events)
        for account, day, events in DailyAccountRollup.objects.values_list("account_id", "day", "events")
    )
    movements = sorted(
        (accounts[account], kind, day)
        for account, kind, day in MrrMovement.objects.values_list("account_id", "kind", "occurred_on")
    )
    created = sorted(Account.objects.values_list("external_id", "created_at"))
    return [*rollups, *movements, *created]


def test_the_plan_is_the_seed_s_alone():
    first = plan_accounts(3, accounts=200, days=DAYS, anchor=TODAY)
    assert first == plan_accounts(3, accounts=200, days=DAYS, anchor=TODAY)
    assert first != plan_accounts(4, accounts=200, days=DAYS, anchor=TODAY)


@pytest.mark.django_db
def test_the_same_seed_writes_the_same_company():
    generate_simulated_company(5, accounts=60, days=DAYS, anchor=TODAY)
    before = _rows()
    assert before
    ProductUser.objects.all().delete()
    Account.objects.all().delete()
    generate_simulated_company(5, accounts=60, days=DAYS, anchor=TODAY)
    assert _rows() == before


def test_churn_is_concentrated_in_the_first_months():
    planned = plan_accounts(11, accounts=4000, days=360, anchor=TODAY)
    history_start = TODAY - timedelta(days=360)
    # Churn per month at risk, by month of tenure, over the months the history shows.
    at_risk: Counter[int] = Counter()
    left: Counter[int] = Counter()
    for account in planned:
        lived = tenure_months(account) if account.churned_on else None
        month = 0
        while True:
            billing = add_months(account.started_on, month + 1)
            if billing >= TODAY:
                break
            if billing > history_start:
                at_risk[month] += 1
                if lived is not None and month == lived - 1:
                    left[month] += 1
                    break
            month += 1
    early = sum(left[m] for m in range(3)) / sum(at_risk[m] for m in range(3))
    late = sum(left[m] for m in range(6, 12)) / sum(at_risk[m] for m in range(6, 12))
    assert early > 2.5 * late, (early, late)
    # Accounts start all over the history, and some were customers before it.
    starts = [account.started_on for account in planned]
    assert min(starts) < history_start < max(starts)
    assert len({start.isoformat()[:7] for start in starts if start >= history_start}) >= 11
    # Engagement sets both how much an account uses the product and whether it stays.
    engagement = np.array([account.engagement for account in planned])
    use = np.array([account.events_per_weekday for account in planned])
    assert np.corrcoef(engagement, np.log(use))[0, 1] > 0.8
    churned = np.array([account.churned_on is not None for account in planned])
    assert engagement[churned].mean() < engagement[~churned].mean() - 0.2


@pytest.mark.django_db
def test_single_seat_monthly_accounts_with_usage_flat_until_they_leave():
    company = generate_simulated_company(7, accounts=ACCOUNTS, days=DAYS, anchor=TODAY)
    assert Account.objects.count() == ACCOUNTS
    assert set(Contact.objects.values("account").annotate(n=Count("id")).values_list("n", flat=True)) == {1}
    assert ProductUser.objects.filter(account__isnull=False).count() == ACCOUNTS
    assert set(Subscription.objects.values_list("quantity", "term_months").distinct()) == {(1, 1)}
    assert DailyAccountRollup.objects.aggregate(most=Max("active_users"))["most"] == 1
    # Customer since is the planned start, also long before the history for some.
    starts = {a.account_id: a.started_on for a in company.accounts}
    for account_id, created in Account.objects.values_list("pk", "created_at"):
        assert created.date() == starts[account_id]
    assert min(starts.values()) < company.history_start
    churned = [a for a in company.accounts if a.churned_on is not None]
    assert len(churned) >= 20
    assert MrrMovement.objects.filter(kind="churn").count() == len(churned)
    # No use on or after the day an account left.
    for account in churned:
        assert not DailyAccountRollup.objects.filter(
            account_id=account.account_id, day__gte=account.churned_on
        ).exists()
    # Flat until the end: the month before leaving holds as many events as the month before that.
    last, before = 0, 0
    for account in churned:
        if account.churned_on - timedelta(days=60) < max(
            account.started_on, company.history_start - timedelta(days=90)
        ):
            continue
        rollups = DailyAccountRollup.objects.filter(account_id=account.account_id)
        last += (
            rollups.filter(day__gte=account.churned_on - timedelta(days=30)).aggregate(n=Sum("events"))["n"]
            or 0
        )
        before += (
            rollups.filter(
                day__gte=account.churned_on - timedelta(days=60),
                day__lt=account.churned_on - timedelta(days=30),
            ).aggregate(n=Sum("events"))["n"]
            or 0
        )
    assert before > 500
    assert 0.85 < last / before < 1.15, (last, before)
    assert DailyEventRollup.objects.filter(event="Item created").exists()


@pytest.mark.django_db
def test_the_back_test_finds_both_outcomes_and_usage_measures():
    generate_simulated_company(9, accounts=ACCOUNTS, days=DAYS, anchor=TODAY)
    period = Period(start=TODAY - timedelta(days=120), end=TODAY - timedelta(days=30), every=15, horizon=30)
    samples = collect(period, measures=["tenure", "usage_trend", "breadth", "active_users"])
    assert len(samples.day) > 200
    assert 0 < sum(samples.outcome) < len(samples.outcome)
    known = Counter(key for values in samples.values for key in values)
    for key in ("tenure", "usage_trend", "breadth", "active_users"):
        assert known[key] > 100, known
