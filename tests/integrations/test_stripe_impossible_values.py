"""Signed Stripe events with values no real Stripe object has: recorded as failed with the reason, answered
200 (no retry can fix them; a 4xx or 5xx would have Stripe retry for days), and nothing of them applied."""

from __future__ import annotations

import pytest

from tests.integrations.test_stripe import T0, event, invoice, secret, send, subscription  # noqa: F401
from touchpoint.integrations.models import StripeEvent, StripeOutcome
from touchpoint.revenue.models import MrrMovement, Subscription

pytestmark = pytest.mark.django_db

YEAR_9999 = 253_402_300_799  # 9999-12-31 23:59:59 UTC


def assert_failed(response, field: str) -> None:
    assert response.status_code == 200, response.content
    assert response.json()["outcome"] == "failed"
    recorded = StripeEvent.objects.get(event_id=response.json()["id"])
    assert recorded.outcome == StripeOutcome.FAILED
    assert recorded.message.startswith(field), recorded.message


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"unit_amount": 10**12}, "data.object.items.price.unit_amount"),  # a trillion cents
        ({"unit_amount": -2500}, "data.object.items.price.unit_amount"),
        ({"unit_amount": 2**64}, "data.object.items.price.unit_amount"),
        ({"quantity": 2**31}, "data.object.items.quantity"),
        ({"quantity": -1}, "data.object.items.quantity"),
        ({"start_date": YEAR_9999}, "data.object.start_date"),
        ({"start_date": -86400}, "data.object.start_date"),
        ({"current_period_end": 10**20}, "data.object.current_period_end"),
    ],
)
def test_a_subscription_with_impossible_values_is_recorded_as_failed_and_not_applied(changes, field):
    item_changes = {k: v for k, v in changes.items() if k in ("unit_amount", "quantity")}
    obj = subscription(**item_changes, **{k: v for k, v in changes.items() if k not in item_changes})
    if "unit_amount" in item_changes:
        obj["items"]["data"][0]["price"]["unit_amount_decimal"] = None
    assert_failed(send(event("customer.subscription.created", obj)), field)
    assert not Subscription.objects.exists() and not MrrMovement.objects.exists()


def test_many_seats_at_a_large_price_are_more_mrr_than_the_column_holds():
    obj = subscription(quantity=2**31 - 1, unit_amount=10**11)
    assert_failed(send(event("customer.subscription.created", obj)), "data.object.items")
    assert not Subscription.objects.exists()


def test_a_nonsense_decimal_amount_is_failed_not_a_crash():
    obj = subscription()
    obj["items"]["data"][0]["price"].update(unit_amount=None, unit_amount_decimal="NaN")
    assert_failed(
        send(event("customer.subscription.created", obj)), "data.object.items.price.unit_amount_decimal"
    )


def test_an_event_created_in_year_9999_is_failed():
    response = send(event("customer.subscription.created", subscription(), created=YEAR_9999))
    assert_failed(response, "created")
    assert not Subscription.objects.exists()


def test_an_invoice_with_an_impossible_amount_or_date_changes_nothing():
    send(event("customer.subscription.created", subscription()))
    assert_failed(send(event("invoice.paid", invoice(amount=-5))), "data.object.amount_paid")
    bad_date = invoice()
    bad_date["status_transitions"]["paid_at"] = YEAR_9999
    assert_failed(send(event("invoice.paid", bad_date)), "data.object.status_transitions.paid_at")
    assert Subscription.objects.get().first_paid_on is None


def test_a_failed_event_sent_again_is_a_duplicate_not_a_second_try():
    bad = event("customer.subscription.created", subscription(quantity=-1))
    assert send(bad).json()["outcome"] == "failed"
    again = send(bad)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert StripeEvent.objects.count() == 1


def test_a_good_event_still_applies_after_a_failed_one():
    send(event("customer.subscription.created", subscription(quantity=-1)))
    assert (
        send(event("customer.subscription.created", subscription(quantity=3))).json()["outcome"]
        == "processed"
    )
    assert Subscription.objects.get().quantity == 3
