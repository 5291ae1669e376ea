"""Revenue services record domain events in their transaction; the account lock keeps churn right under races."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import connections, transaction

from tests.factories import AccountFactory
from touchpoint.events.models import DomainEvent
from touchpoint.revenue import services
from touchpoint.revenue.models import ChurnReason, MovementKind, MrrMovement, Subscription


def payloads(kind: str) -> list[dict]:
    return [event.payload for event in DomainEvent.objects.filter(kind=kind).order_by("id")]


@pytest.mark.django_db
def test_a_subscription_lifecycle_records_its_events_and_each_mrr_movement(csm):
    account = AccountFactory()
    sub = services.create_subscription(
        confirm=True,
        account=account,
        product="Cloud",
        mrr="1000",
        started_on=date(2026, 1, 1),
        actor=csm,
        external_id="S1",
    )
    services.change_subscription(subscription=sub, mrr="1500", occurred_on=date(2026, 2, 1))
    reason = ChurnReason.objects.get(name="Budget cut")
    services.cancel_subscription(subscription=sub, canceled_on=date(2026, 3, 1), churn_reason=reason)
    services.reactivate_subscription(subscription=sub, reactivated_on=date(2026, 4, 1), mrr="800")

    # (renewal.* events of the renewal process are checked in tests/revenue/test_renewal_process.py)
    assert list(
        DomainEvent.objects.exclude(kind__startswith="renewal.").order_by("id").values_list("kind", flat=True)
    ) == [
        "mrr.movement",
        "subscription.created",
        "mrr.movement",
        "subscription.changed",
        "mrr.movement",
        "subscription.canceled",
        "mrr.movement",
        "subscription.reactivated",
    ]
    assert set(DomainEvent.objects.values_list("account_id", flat=True)) == {account.pk}
    created = payloads("subscription.created")[0]
    assert (created["subscription_id"], created["external_id"], created["mrr"], created["status"]) == (
        sub.pk,
        "S1",
        "1000.00",
        "active",
    )
    assert payloads("subscription.changed")[0]["changes"] == {"mrr": ["1000.00", "1500.00"]}
    assert payloads("subscription.canceled")[0] | {"subscription_id": 0} == {
        "subscription_id": 0,
        "external_id": "S1",
        "canceled_on": "2026-03-01",
        "churn_reason": "Budget cut",
        "source": "manual",
    }
    movements = [(p["kind"], p["delta"], p["mrr_after"]) for p in payloads("mrr.movement")]
    assert movements == [
        (MovementKind.NEW, "1000.00", "1000.00"),
        (MovementKind.EXPANSION, "500.00", "1500.00"),
        (MovementKind.CHURN, "-1500.00", "0"),
        (MovementKind.REACTIVATION, "800.00", "800.00"),
    ]
    ids = [p["movement_id"] for p in payloads("mrr.movement")]
    assert ids == list(MrrMovement.objects.order_by("id").values_list("pk", flat=True))


@pytest.mark.django_db
def test_a_payment_failure_and_recovery_record_status_changes():
    sub = services.create_subscription(
        confirm=True, account=AccountFactory(), product="Cloud", mrr="100", started_on=date(2026, 1, 1)
    )
    services.record_payment_failed(subscription=sub)
    services.record_payment_succeeded(subscription=sub)
    assert [p["changes"] for p in payloads("subscription.changed")] == [
        {"status": ["active", "past_due"]},
        {"status": ["past_due", "active"]},
    ]


@pytest.mark.django_db
def test_a_rejected_or_rolled_back_revenue_write_leaves_no_event():
    account = AccountFactory()
    with pytest.raises(ValidationError):
        services.create_subscription(
            confirm=True, account=account, product="Cloud", mrr="-1", started_on=date(2026, 1, 1)
        )
    with pytest.raises(RuntimeError), transaction.atomic():
        sub = services.create_subscription(
            confirm=True, account=account, product="Cloud", mrr="100", started_on=date(2026, 1, 1)
        )
        services.cancel_subscription(subscription=sub, canceled_on=date(2026, 2, 1))
        raise RuntimeError
    assert not DomainEvent.objects.exists()


@pytest.mark.django_db
def test_revenue_writes_lock_the_account_row():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    sub = services.create_subscription(
        confirm=True, account=AccountFactory(), product="Cloud", mrr="100", started_on=date(2026, 1, 1)
    )
    with CaptureQueriesContext(connection) as queries:
        services.cancel_subscription(subscription=sub, canceled_on=date(2026, 2, 1))
    statements = [query["sql"] for query in queries.captured_queries]
    first_select = next(sql for sql in statements if sql.lstrip().upper().startswith("SELECT"))
    assert 'FROM "accounts_account"' in first_select
    if connection.features.has_select_for_update:
        assert "FOR UPDATE" in first_select


@pytest.mark.skipif(
    connections["default"].vendor != "postgresql",
    reason="SQLite queues writers at BEGIN IMMEDIATE; the race needs PostgreSQL",
)
@pytest.mark.django_db(transaction=True)
def test_two_subscriptions_canceled_at_once_still_record_churn():
    rounds = 5
    subscriptions = []
    for _round in range(rounds):
        account = AccountFactory()
        subscriptions.append(
            [
                services.create_subscription(
                    confirm=True, account=account, product=product, mrr="1000", started_on=date(2026, 1, 1)
                )
                for product in ("Cloud", "Support")
            ]
        )
    errors: list[str] = []

    def cancel(subscription: Subscription, barrier: threading.Barrier) -> None:
        try:
            barrier.wait(timeout=30)
            services.cancel_subscription(subscription=subscription, canceled_on=date(2026, 3, 1))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(repr(error))
        finally:
            connections.close_all()

    for pair in subscriptions:
        barrier = threading.Barrier(2)
        threads = [threading.Thread(target=cancel, args=(sub, barrier)) for sub in pair]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not errors
        kinds = sorted(
            MrrMovement.objects.filter(account_id=pair[0].account_id).values_list("kind", flat=True)
        )
        assert kinds == sorted(
            [MovementKind.NEW, MovementKind.EXPANSION, MovementKind.CONTRACTION, MovementKind.CHURN]
        )
