"""Stripe and the CSV import sync subscriptions through one service: the same facts make the same rows."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

import pytest
from django.utils import timezone

from tests.factories import AccountFactory
from touchpoint.events.models import DomainEvent
from touchpoint.integrations.csv_import import runner
from touchpoint.revenue import stripe
from touchpoint.revenue.models import MrrMovement, Subscription

pytestmark = pytest.mark.django_db

START = date(2026, 1, 1)
RENEWAL = date(2026, 2, 1)
# (seats at $25 a month, Stripe status, the day it ended)
STATES = [
    (10, "active", None),
    (14, "active", None),
    (14, "canceled", date(2026, 4, 1)),
    (12, "active", None),
]


def _timestamp(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def _stripe_event(n: int, seats: int, status: str, ended: date | None) -> dict:
    now = int(time.time())
    return {
        "id": f"evt_sync_{n}",
        "type": "customer.subscription.deleted" if status == "canceled" else "customer.subscription.updated",
        "created": now + n,  # after the last one, so none is stale
        "livemode": False,
        "data": {
            "object": {
                "id": "sub_Sync",
                "customer": "cus_Sync",
                "status": status,
                "start_date": _timestamp(START),
                "current_period_end": _timestamp(RENEWAL),
                "cancel_at_period_end": False,
                "ended_at": _timestamp(ended) if ended else None,
                "items": {
                    "data": [
                        {
                            "quantity": seats,
                            "price": {
                                "currency": "usd",
                                "nickname": "Team",
                                "product": "Cloud",
                                "unit_amount": 2500,
                                "recurring": {"interval": "month", "interval_count": 1},
                            },
                        }
                    ]
                },
            }
        },
    }


def _csv(tmp_path, n: int, seats: int, status: str, ended: date | None):
    # Confirmed, as Stripe's billing data is: the history starts before the accounts were created.
    path = tmp_path / f"state{n}.csv"
    path.write_text(
        "Subscription ID,Account ID,Product,Plan,MRR,Currency,Start Date,Renewal Date,Seats,Status,"
        "Auto Renew,Cancellation Date,Confirm\n"
        f"S-Sync,A-Sync,Cloud,Team,{seats * 25},USD,{START},{RENEWAL},{seats},{status},yes,{ended or ''},yes\n"
    )
    return path


def _rows(external_id: str) -> tuple[tuple, list[tuple], list[str]]:
    sub = Subscription.objects.get(external_id=external_id)
    fields = ("product", "plan", "quantity", "mrr", "currency", "status", "started_on", "renewal_date")
    fields += ("auto_renew", "canceled_on", "term_months")
    subscription = tuple(getattr(sub, field) for field in fields)
    movements = list(
        MrrMovement.objects.filter(subscription=sub)
        .order_by("id")
        .values_list("kind", "occurred_on", "mrr_before", "mrr_after", "delta", "currency")
    )
    events = list(
        DomainEvent.objects.filter(account_id=sub.account_id)
        .exclude(kind__startswith="account.")
        .order_by("id")
        .values_list("kind", flat=True)
    )
    return subscription, movements, events


def test_the_same_states_through_stripe_and_through_csv_make_the_same_rows_and_movements(tmp_path):
    AccountFactory(external_id="cus_Sync")
    AccountFactory(external_id="A-Sync")
    for n, (seats, status, ended) in enumerate(STATES):
        stripe.handle(_stripe_event(n, seats, status, ended))
        result = runner.run(_csv(tmp_path, n, seats, status, ended), "subscriptions")
        assert result.ok, [str(problem) for problem in result.problems]
    from_stripe, from_csv = _rows("sub_Sync"), _rows("S-Sync")
    assert from_stripe == from_csv
    subscription, movements, _events = from_stripe
    assert subscription[5] == "active" and subscription[2] == 12
    assert [kind for kind, *_rest in movements] == ["new", "expansion", "churn", "reactivation"]
    assert movements[2][1] == date(2026, 4, 1)
    assert movements[3][1] == timezone.localdate()


def test_a_subscription_first_seen_canceled_is_recorded_with_its_history_either_way(tmp_path):
    AccountFactory(external_id="cus_Sync")
    AccountFactory(external_id="A-Sync")
    stripe.handle(_stripe_event(0, 10, "canceled", date(2026, 3, 1)))
    assert runner.run(_csv(tmp_path, 0, 10, "canceled", date(2026, 3, 1)), "subscriptions").ok
    from_stripe, from_csv = _rows("sub_Sync"), _rows("S-Sync")
    assert from_stripe == from_csv
    assert [kind for kind, *_rest in from_stripe[1]] == ["new", "churn"]
