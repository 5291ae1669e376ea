from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Sum

from tests.factories import AccountFactory
from touchpoint.accounts.models import TimelineEntry
from touchpoint.revenue import services
from touchpoint.revenue.models import ChurnReason, ExchangeRate, MovementKind, MrrMovement, SubscriptionStatus

pytestmark = pytest.mark.django_db


def kinds(account):
    return list(
        MrrMovement.objects.filter(account=account).order_by("occurred_on", "id").values_list("kind", "delta")
    )


def test_a_subscription_lifecycle_leaves_movements_that_add_up_to_its_mrr(csm):
    account = AccountFactory()
    sub = services.create_subscription(
        confirm=True,
        account=account,
        product="Cloud",
        plan="Team",
        mrr="1000",
        started_on=date(2025, 1, 1),
        actor=csm,
    )
    assert sub.renewal_date == date(2026, 1, 1)
    services.change_subscription(
        subscription=sub, mrr=Decimal("1500"), quantity=15, occurred_on=date(2025, 4, 1)
    )
    reason = ChurnReason.objects.get(name="Budget cut")
    services.change_subscription(
        subscription=sub, mrr=Decimal("1200"), occurred_on=date(2025, 7, 1), churn_reason=reason
    )
    services.cancel_subscription(
        subscription=sub, canceled_on=date(2025, 12, 31), churn_reason=reason, note="No budget"
    )
    services.reactivate_subscription(subscription=sub, reactivated_on=date(2026, 3, 1), mrr="800")

    assert kinds(account) == [
        ("new", Decimal("1000.00")),
        ("expansion", Decimal("500.00")),
        ("contraction", Decimal("-300.00")),
        ("churn", Decimal("-1200.00")),
        ("reactivation", Decimal("800.00")),
    ]
    assert MrrMovement.objects.filter(account=account).aggregate(t=Sum("delta"))["t"] == Decimal("800.00")
    assert services.account_mrr(account) == Decimal("800.00")
    churn = MrrMovement.objects.get(account=account, kind=MovementKind.CHURN)
    assert churn.churn_reason == reason and churn.note == "No budget"
    # every movement is on the timeline, titled in the reader's language from its data
    assert TimelineEntry.objects.filter(account=account, kind="mrr_movement").count() == 5


def test_a_new_subscription_after_the_account_churned_is_a_reactivation():
    account = AccountFactory()
    first = services.create_subscription(
        confirm=True, account=account, product="Cloud", mrr="500", started_on=date(2024, 1, 1)
    )
    services.cancel_subscription(subscription=first, canceled_on=date(2024, 6, 1))
    services.create_subscription(
        confirm=True, account=account, product="Cloud", mrr="700", started_on=date(2025, 1, 1)
    )
    assert [k for k, _ in kinds(account)] == ["new", "churn", "reactivation"]


def test_movements_are_the_accounts_view_a_second_product_expands_and_cancelling_it_contracts():
    account = AccountFactory()
    main = services.create_subscription(
        confirm=True, account=account, product="Cloud", mrr="500", started_on=date(2024, 1, 1)
    )
    add_on = services.create_subscription(
        confirm=True, account=account, product="Add-on", mrr="100", started_on=date(2024, 2, 1)
    )
    services.cancel_subscription(subscription=add_on, canceled_on=date(2024, 5, 1))
    services.cancel_subscription(subscription=main, canceled_on=date(2024, 9, 1))
    assert kinds(account) == [
        ("new", Decimal("500.00")),
        ("expansion", Decimal("100.00")),
        ("contraction", Decimal("-100.00")),
        ("churn", Decimal("-500.00")),
    ]


def test_cancelling_twice_records_one_churn():
    account = AccountFactory()
    sub = services.create_subscription(
        confirm=True, account=account, product="Cloud", mrr="500", started_on=date(2024, 1, 1)
    )
    services.cancel_subscription(subscription=sub, canceled_on=date(2024, 6, 1))
    services.cancel_subscription(subscription=sub, canceled_on=date(2024, 6, 2))
    assert [k for k, _ in kinds(account)] == ["new", "churn"]


def test_a_trial_records_nothing_until_it_becomes_active():
    account = AccountFactory()
    sub = services.create_subscription(
        confirm=True,
        account=account,
        product="Cloud",
        mrr="300",
        started_on=date(2024, 1, 1),
        status=SubscriptionStatus.TRIALING,
    )
    assert kinds(account) == []
    services.change_subscription(
        subscription=sub, status=SubscriptionStatus.ACTIVE, occurred_on=date(2024, 1, 15)
    )
    assert kinds(account) == [("new", Decimal("300.00"))]


def test_other_currencies_are_converted_at_the_rate_admins_set():
    account = AccountFactory()
    with pytest.raises(ValidationError) as error:
        services.create_subscription(
            confirm=True,
            account=account,
            product="Cloud",
            mrr="100000",
            currency="jpy",
            started_on=date(2024, 1, 1),
        )
    assert "currency" in error.value.message_dict
    ExchangeRate.objects.create(currency="JPY", rate=Decimal("0.0067"))
    sub = services.create_subscription(
        confirm=True,
        account=account,
        product="Cloud",
        mrr="100000",
        currency="jpy",
        started_on=date(2024, 1, 1),
    )
    assert sub.currency == "JPY" and sub.mrr == Decimal("100000.00")
    assert kinds(account) == [("new", Decimal("670.00"))]


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("mrr", {"mrr": "-5"}),
        ("mrr", {"mrr": "lots"}),
        ("mrr", {"mrr": "NaN"}),
        ("currency", {"currency": "US"}),
        ("product", {"product": "  "}),
        ("status", {"status": "canceled"}),
        ("term_months", {"term_months": 0}),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(field, kwargs):
    account = AccountFactory()
    arguments = {
        "account": account,
        "product": "Cloud",
        "mrr": "100",
        "started_on": date(2024, 1, 1),
    } | kwargs
    with pytest.raises(ValidationError) as error:
        services.create_subscription(confirm=True, **arguments)
    assert field in error.value.message_dict
    assert not account.subscriptions.exists() and not MrrMovement.objects.exists()


def test_a_failed_payment_makes_the_subscription_past_due_and_says_so_on_the_timeline():
    account = AccountFactory()
    sub = services.create_subscription(
        confirm=True, account=account, product="Cloud", mrr="500", started_on=date(2024, 1, 1)
    )
    services.record_payment_failed(subscription=sub, amount=Decimal("500"))
    sub.refresh_from_db()
    assert sub.status == SubscriptionStatus.PAST_DUE
    assert TimelineEntry.objects.filter(account=account, kind="payment_failed").count() == 1
    services.record_payment_succeeded(subscription=sub)
    sub.refresh_from_db()
    assert sub.status == SubscriptionStatus.ACTIVE and sub.first_paid_on is not None
    # past due is still live revenue: no movement for a failed payment
    assert [k for k, _ in kinds(account)] == ["new"]


def test_movement_titles_render_in_the_readers_language():
    from django.utils import translation

    from touchpoint.accounts.timeline import entry_title

    account = AccountFactory()
    sub = services.create_subscription(
        confirm=True, account=account, product="Cloud", mrr="1000", started_on=date(2024, 1, 1)
    )
    services.change_subscription(subscription=sub, mrr="1250.5", occurred_on=date(2024, 2, 1))
    entry = TimelineEntry.objects.filter(account=account, kind="mrr_movement").latest("occurred_at")
    with translation.override("en"):
        assert entry_title(entry) == "Expansion: Cloud, MRR +250.50 USD (now 1,250.50 USD)"
