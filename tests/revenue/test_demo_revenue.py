"""The demo company's revenue: movements that add up, churn that follows the usage decline."""

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import Max, Sum

from tests.conftest import demo_once_per_module
from touchpoint.accounts.models import TimelineEntry
from touchpoint.revenue.models import MovementKind, MrrMovement, Subscription, SubscriptionStatus
from touchpoint.usage.models import DailyAccountRollup, RawEvent

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 20)


DEMO = ("--accounts", "150", "--days", "540", "--seed", "11", "--today", TODAY.isoformat())
demo_company = demo_once_per_module(*DEMO)


def test_every_subscription_has_movements_that_add_up_to_its_mrr(demo_company):
    totals = dict(MrrMovement.objects.values_list("subscription").annotate(total=Sum("delta")))
    for subscription in Subscription.objects.all():
        expected = subscription.mrr if subscription.is_live else Decimal("0")
        assert totals[subscription.pk] == pytest.approx(expected), subscription
    kinds = set(MrrMovement.objects.values_list("kind", flat=True))
    assert {MovementKind.NEW, MovementKind.EXPANSION, MovementKind.CONTRACTION, MovementKind.CHURN} <= kinds
    assert MrrMovement.objects.filter(kind=MovementKind.CHURN, churn_reason__isnull=True).count() == 0
    assert TimelineEntry.objects.filter(kind="mrr_movement").count() == MrrMovement.objects.count()
    assert (
        Subscription.objects.filter(status=SubscriptionStatus.CANCELED, canceled_on__isnull=True).count() == 0
    )


def test_churned_customers_stop_using_the_product_and_recent_churners_declined_first(demo_company):
    churned = dict(
        Subscription.objects.filter(status=SubscriptionStatus.CANCELED).values_list(
            "account_id", "canceled_on"
        )
    )
    assert churned, "the demo has no churn"
    last_event = dict(
        RawEvent.objects.filter(account_id__in=churned).values_list("account_id").annotate(last=Max("day"))
    )
    for account_id, left_on in churned.items():
        assert last_event.get(account_id, left_on) <= left_on
    recent = [a for a, left_on in churned.items() if left_on > TODAY - timedelta(days=40)]
    assert recent, "no customer churned inside the usage window"
    events = defaultdict(lambda: [0, 0])
    for row in DailyAccountRollup.objects.filter(account_id__in=recent):
        days_before = (churned[row.account_id] - row.day).days
        if 45 < days_before <= 75:
            events[row.account_id][0] += row.events
        elif 0 < days_before <= 30:
            events[row.account_id][1] += row.events
    declining = [a for a, (early, late) in events.items() if late < early]
    assert len(declining) >= len(events) * 0.6, (
        "recent churners should mostly use the product less before leaving"
    )


def test_the_demo_revenue_is_the_same_for_the_same_seed(demo_company):
    first = sorted(MrrMovement.objects.values_list("account__name", "kind", "occurred_on", "delta"))
    call_command("demo", *DEMO, "--reset")
    assert sorted(MrrMovement.objects.values_list("account__name", "kind", "occurred_on", "delta")) == first
