"""Stripe webhooks: signed as Stripe signs (checked with the official library), applied once, in any order."""

import json
import time
from datetime import date
from decimal import Decimal

import pytest
import stripe as stripe_sdk
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import logged_in_client
from tests.factories import AccountFactory
from touchpoint.accounts.models import Account, TimelineEntry
from touchpoint.integrations.models import StripeEvent
from touchpoint.revenue import stripe
from touchpoint.revenue.models import (
    ExchangeRate,
    MovementKind,
    MrrMovement,
    Subscription,
    SubscriptionStatus,
)

pytestmark = pytest.mark.django_db

SECRET = "whsec_test_current"
OLD_SECRET = "whsec_test_previous"
T0 = 1_767_225_600  # 2026-01-01 00:00 UTC


@pytest.fixture(autouse=True)
def secret(settings):
    settings.STRIPE_WEBHOOK_SECRET = SECRET


def header(payload: bytes, *, secret: str = SECRET, timestamp: int | None = None, extra: str = "") -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={stripe.sign(payload, secret, timestamp)}{extra}"


def send(event: dict, *, signature: str | None = None, raw: bytes | None = None):
    payload = raw if raw is not None else json.dumps(event).encode()
    headers = {} if signature == "" else {"HTTP_STRIPE_SIGNATURE": signature or header(payload)}
    return Client().post("/webhooks/stripe", payload, content_type="application/json", **headers)


_counter = iter(range(1, 10**6))


def event(kind: str, obj: dict, *, created: int | None = None, event_id: str | None = None) -> dict:
    n = next(_counter)
    return {
        "id": event_id or f"evt_1Test{n:08d}",
        "object": "event",
        "api_version": "2024-06-20",
        "created": created or T0 + n * 60,
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": f"req_{n}", "idempotency_key": None},
        "type": kind,
        "data": {"object": obj},
    }


def customer(cid="cus_Test1", **extra) -> dict:
    return {
        "id": cid,
        "object": "customer",
        "name": "Acme Rockets",
        "email": "billing@acme.example",
        "metadata": {},
        "created": T0,
        "livemode": False,
        **extra,
    }


def subscription(
    sid="sub_Test1",
    *,
    quantity=10,
    unit_amount=2500,
    status="active",
    interval="month",
    interval_count=1,
    currency="usd",
    customer_id="cus_Test1",
    **extra,
) -> dict:
    return {
        "id": sid,
        "object": "subscription",
        "customer": customer_id,
        "status": status,
        "currency": currency,
        "start_date": T0,
        "created": T0,
        "current_period_start": T0,
        "current_period_end": T0 + 31 * 86400,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "ended_at": None,
        "cancellation_details": {"comment": None, "feedback": None, "reason": None},
        "items": {
            "object": "list",
            "data": [
                {
                    "id": "si_Test1",
                    "object": "subscription_item",
                    "quantity": quantity,
                    "price": {
                        "id": "price_Team",
                        "object": "price",
                        "active": True,
                        "currency": currency,
                        "nickname": "Team",
                        "product": "prod_Cloud",
                        "type": "recurring",
                        "unit_amount": unit_amount,
                        "unit_amount_decimal": str(unit_amount),
                        "recurring": {
                            "interval": interval,
                            "interval_count": interval_count,
                            "usage_type": "licensed",
                        },
                    },
                }
            ],
            "has_more": False,
            "total_count": 1,
        },
        "metadata": {},
        "livemode": False,
        **extra,
    }


def invoice(iid="in_Test1", *, sid="sub_Test1", amount=25000, paid=True) -> dict:
    return {
        "id": iid,
        "object": "invoice",
        "customer": "cus_Test1",
        "subscription": sid,
        "currency": "usd",
        "amount_due": amount,
        "amount_paid": amount if paid else 0,
        "attempt_count": 1,
        "status": "paid" if paid else "open",
        "status_transitions": {"paid_at": T0 + 3600 if paid else None},
    }


# --- Signatures -------------------------------------------------------------------------------


def test_our_signature_is_the_one_the_official_library_verifies():
    payload = json.dumps(event("customer.created", customer())).encode()
    signature = header(payload)
    stripe_sdk.WebhookSignature.verify_header(payload.decode(), signature, SECRET, tolerance=300)
    # And one the official library makes, we accept.
    timestamp = int(time.time())
    official = stripe_sdk.WebhookSignature._compute_signature(f"{timestamp}.{payload.decode()}", SECRET)
    stripe.verify(payload, f"t={timestamp},v1={official}", endpoint_secrets=[SECRET])


def test_a_valid_event_is_applied_and_acknowledged():
    response = send(event("customer.created", customer()))
    assert response.status_code == 200, response.json()
    assert response.json()["outcome"] == "processed"
    account = Account.objects.get(external_id="cus_Test1")
    assert (account.name, account.domain) == ("Acme Rockets", "acme.example")


@pytest.mark.parametrize(
    "make_header, problem",
    [
        (lambda p: header(p + b" "), "No signature matches"),  # tampered body
        (lambda p: header(p, secret="whsec_wrong"), "No signature matches"),
        (lambda p: header(p, timestamp=int(time.time()) - 301), "too old"),  # expired
        (lambda p: "v1=" + stripe.sign(p, SECRET, int(time.time())), "no valid timestamp"),
        (lambda p: "t=²,v1=" + stripe.sign(p, SECRET, int(time.time())), "no valid timestamp"),
        (lambda p: f"t={int(time.time())}", "no v1 signature"),
        (lambda p: "", "missing"),
    ],
)
def test_bad_signatures_get_400_and_change_nothing(make_header, problem):
    payload = json.dumps(event("customer.created", customer())).encode()
    response = send({}, raw=payload, signature=make_header(payload))
    assert response.status_code == 400
    assert (
        problem in response.json()["detail"] and response.json()["errors"][0]["field"] == "Stripe-Signature"
    )
    assert not Account.objects.exists() and not StripeEvent.objects.exists()


def test_several_signatures_and_a_rotated_secret(settings):
    settings.STRIPE_WEBHOOK_SECRET = f"{SECRET}, {OLD_SECRET}"
    payload = json.dumps(event("customer.created", customer())).encode()
    # Stripe sends one v1 per active secret while one is rolled over; either may match.
    both = (
        header(payload, secret="whsec_unknown") + f",v1={stripe.sign(payload, OLD_SECRET, int(time.time()))}"
    )
    both = both.replace(both.split(",")[0], f"t={int(time.time())}")
    assert send({}, raw=payload, signature=both).status_code == 200
    payload2 = json.dumps(event("customer.created", customer("cus_Test2"))).encode()
    assert send({}, raw=payload2, signature=header(payload2, secret=OLD_SECRET)).status_code == 200
    assert Account.objects.count() == 2


def test_no_secret_configured_refuses_everything(settings):
    settings.STRIPE_WEBHOOK_SECRET = ""
    response = send(event("customer.created", customer()))
    assert response.status_code == 400 and "STRIPE_WEBHOOK_SECRET" in response.json()["detail"]


def test_malformed_json_and_non_events_are_4xx():
    raw = b"{not json"
    assert send({}, raw=raw, signature=header(raw)).status_code == 400
    listed = b"[1, 2]"
    assert send({}, raw=listed, signature=header(listed)).status_code == 400
    no_type = json.dumps({"id": "evt_x", "created": T0, "data": {"object": {}}}).encode()
    response = send({}, raw=no_type, signature=header(no_type))
    assert response.status_code == 422 and not StripeEvent.objects.exists()


def test_replayed_event_changes_nothing_and_unknown_types_are_acknowledged():
    created = event("customer.subscription.created", subscription())
    assert send(created).json()["duplicate"] is False
    replay = send(created)
    assert replay.status_code == 200 and replay.json()["duplicate"] is True
    assert MrrMovement.objects.count() == 1 and StripeEvent.objects.count() == 1
    unknown = send(event("charge.dispute.created", {"id": "dp_1", "object": "dispute"}))
    assert unknown.status_code == 200 and unknown.json()["outcome"] == "ignored"


# --- What events do ---------------------------------------------------------------------------


def test_a_subscription_lifecycle_from_stripe_events_leaves_the_right_movements():
    send(event("customer.created", customer()))
    send(event("customer.subscription.created", subscription(quantity=10)))  # 10 × $25 = $250
    send(event("customer.subscription.updated", subscription(quantity=14)))  # $350
    send(event("customer.subscription.updated", subscription(quantity=12)))  # $300
    send(event("invoice.payment_failed", invoice(paid=False, amount=30000)))
    sub = Subscription.objects.get(external_id="sub_Test1")
    assert sub.status == SubscriptionStatus.PAST_DUE
    assert TimelineEntry.objects.filter(account=sub.account, kind="payment_failed").exists()
    send(event("invoice.paid", invoice(iid="in_Test2", amount=30000)))
    sub.refresh_from_db()
    assert sub.status == SubscriptionStatus.ACTIVE and sub.first_paid_on is not None
    send(
        event(
            "customer.subscription.deleted",
            subscription(
                quantity=12,
                status="canceled",
                ended_at=T0 + 90 * 86400,
                cancellation_details={
                    "comment": None,
                    "feedback": "switched_service",
                    "reason": "cancellation_requested",
                },
            ),
        )
    )
    sub.refresh_from_db()
    assert sub.status == SubscriptionStatus.CANCELED and sub.canceled_on == date(2026, 4, 1)
    movements = list(
        MrrMovement.objects.order_by("id").values_list("kind", "delta", "churn_reason__name", "source")
    )
    assert movements == [
        (MovementKind.NEW, Decimal("250.00"), None, "stripe"),
        (MovementKind.EXPANSION, Decimal("100.00"), None, "stripe"),
        (MovementKind.CONTRACTION, Decimal("-50.00"), None, "stripe"),
        (MovementKind.CHURN, Decimal("-300.00"), "Switched to a competitor", "stripe"),
    ]
    assert TimelineEntry.objects.filter(account=sub.account, kind="mrr_movement").count() == 4


def test_prices_are_normalised_to_a_month_in_the_currency_minor_units():
    send(event("customer.subscription.created", subscription("sub_Y", unit_amount=120000, interval="year")))
    yen = event(
        "customer.subscription.created",
        subscription("sub_JPY", unit_amount=12000, currency="jpy", quantity=1, customer_id="cus_JP"),
    )
    refused = send(yen)  # no JPY rate to the reporting currency yet: nothing written, Stripe retries
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "currency"
    assert not Account.objects.filter(external_id="cus_JP").exists()
    ExchangeRate.objects.create(currency="JPY", rate=Decimal("0.0067"))
    assert send(yen).status_code == 200
    send(
        event(
            "customer.subscription.created",
            subscription(
                "sub_W", unit_amount=1000, quantity=1, interval="week", interval_count=2, customer_id="cus_W"
            ),
        )
    )
    assert Subscription.objects.get(external_id="sub_Y").mrr == Decimal("1000.00")  # $1,200 × 10 a year
    jpy = Subscription.objects.get(external_id="sub_JPY")
    assert (jpy.mrr, jpy.currency) == (Decimal("12000.00"), "JPY")  # yen have no cents
    assert Subscription.objects.get(external_id="sub_W").mrr == Decimal("21.67")  # $10 per 2 weeks


def test_out_of_order_events_end_in_the_newest_state():
    newer = event("customer.subscription.updated", subscription(quantity=20), created=T0 + 7200)
    older = event("customer.subscription.created", subscription(quantity=10), created=T0 + 3600)
    assert send(newer).json()["outcome"] == "processed"  # updated before created: created from its state
    assert send(older).json()["outcome"] == "stale"
    assert Subscription.objects.get().quantity == 20
    assert MrrMovement.objects.count() == 1


def test_metadata_names_the_account_and_a_wrong_one_is_a_clear_422():
    account = AccountFactory(name="Known Co", external_id=None)
    send(event("customer.created", customer("cus_K", metadata={"touchpoint_account_id": str(account.pk)})))
    account.refresh_from_db()
    assert account.external_id == "cus_K" and Account.objects.count() == 1
    bad = send(event("customer.created", customer("cus_L", metadata={"touchpoint_account_id": "999999"})))
    assert bad.status_code == 422 and "touchpoint_account_id" in bad.json()["errors"][0]["field"]
    assert not StripeEvent.objects.filter(object_id="cus_L").exists()


def test_a_canceled_subscription_that_comes_back_is_a_reactivation():
    send(event("customer.subscription.created", subscription()))
    send(event("customer.subscription.deleted", subscription(status="canceled", ended_at=T0 + 86400 * 40)))
    send(event("customer.subscription.updated", subscription(status="active", quantity=5)))
    kinds = list(MrrMovement.objects.order_by("id").values_list("kind", flat=True))
    assert kinds == [MovementKind.NEW, MovementKind.CHURN, MovementKind.REACTIVATION]
    assert Subscription.objects.get().mrr == Decimal("125.00")


def test_the_admin_page_shows_the_url_the_secret_state_and_events(admin_user, csm):
    send(event("customer.created", customer()))
    page = logged_in_client(admin_user).get("/integrations/stripe/").content.decode()
    assert "/webhooks/stripe" in page and "1 secret configured" in page and "customer.created" in page
    assert logged_in_client(csm).get("/integrations/stripe/").status_code == 403


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.one_of(
        st.binary(max_size=300),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=20),
            lambda inner: (
                st.lists(inner, max_size=4)
                | st.dictionaries(
                    st.sampled_from(
                        ["id", "type", "created", "data", "object", "items", "customer", "status"]
                    ),
                    inner,
                    max_size=5,
                )
            ),
            max_leaves=20,
        ).map(lambda value: json.dumps(value).encode()),
    ),
    signed=st.booleans(),
)
def test_any_body_signed_or_not_gets_an_answer_not_a_500(body, signed):
    response = send({}, raw=body, signature=header(body) if signed else "t=1,v1=00")
    assert response.status_code in (200, 400, 422)
