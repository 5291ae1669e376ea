"""The account page's subscriptions panel: CSMs add, change and cancel; errors beside the field; viewers read."""

from datetime import date
from decimal import Decimal

import pytest

from tests.conftest import logged_in_client
from touchpoint.revenue import services
from touchpoint.revenue.models import (
    ChurnReason,
    MovementKind,
    MrrMovement,
    RenewalOpportunity,
    Subscription,
    SubscriptionStatus,
)

pytestmark = pytest.mark.django_db


def test_a_csm_adds_changes_cancels_and_reactivates(csm, account):
    client = logged_in_client(csm)
    url = f"/accounts/{account.pk}/subscriptions/"
    values = {
        "action": "add",
        "new-product": "Cloud",
        "new-plan": "Team",
        "new-mrr": "500",
        "new-currency": "USD",
        "new-quantity": "5",
        "new-started_on": "2026-01-01",
        "new-term_months": "12",
        "new-auto_renew": "on",
    }
    # The account was created today: the form asks whether a start eleven months ago is right.
    asked = client.post(url, values).content.decode()
    assert "before the account was created" in asked and 'value="start_before_account"' in asked
    assert not Subscription.objects.exists()
    added = client.post(url, {**values, "new-confirm": "start_before_account"})
    assert added.status_code == 200 and "Cloud" in added.content.decode()
    subscription = Subscription.objects.get()
    reason = ChurnReason.objects.get(name="Budget cut")
    prefix = f"change-{subscription.pk}"
    client.post(
        url,
        {
            "action": "change",
            "subscription": subscription.pk,
            f"{prefix}-mrr": "400",
            f"{prefix}-quantity": "4",
            f"{prefix}-plan": "Team",
            f"{prefix}-occurred_on": "2026-03-01",
            f"{prefix}-churn_reason": reason.pk,
            f"{prefix}-note": "Two seats fewer",
        },
    )
    prefix = f"cancel-{subscription.pk}"
    client.post(
        url,
        {
            "action": "cancel",
            "subscription": subscription.pk,
            f"{prefix}-canceled_on": "2026-06-30",
            f"{prefix}-churn_reason": reason.pk,
        },
    )
    prefix = f"reactivate-{subscription.pk}"
    page = client.post(
        url,
        {
            "action": "reactivate",
            "subscription": subscription.pk,
            f"{prefix}-reactivated_on": "2026-09-01",
            f"{prefix}-mrr": "300",
        },
    ).content.decode()
    assert list(MrrMovement.objects.order_by("occurred_on").values_list("kind", "delta")) == [
        (MovementKind.NEW, Decimal("500")),
        (MovementKind.CONTRACTION, Decimal("-100")),
        (MovementKind.CHURN, Decimal("-400")),
        (MovementKind.REACTIVATION, Decimal("300")),
    ]
    assert MrrMovement.objects.get(kind=MovementKind.CONTRACTION).note == "Two seats fewer"
    assert "Reactivation" in page and "Budget cut" in page


def test_bad_input_is_shown_beside_the_field_and_nothing_changes(csm, account):
    client = logged_in_client(csm)
    url = f"/accounts/{account.pk}/subscriptions/"
    response = client.post(
        url,
        {
            "action": "add",
            "new-product": "",
            "new-mrr": "-3",
            "new-quantity": "1",
            "new-started_on": "someday",
            "new-term_months": "12",
        },
    )
    assert response.status_code == 422
    assert set(response.context["add_form"].errors) == {"product", "mrr", "started_on"}
    assert not Subscription.objects.exists()
    subscription = services.create_subscription(
        confirm=True, account=account, product="Cloud", mrr=Decimal("10"), started_on=date(2026, 1, 1)
    )
    prefix = f"cancel-{subscription.pk}"
    missing_reason = client.post(
        url, {"action": "cancel", "subscription": subscription.pk, f"{prefix}-canceled_on": "2026-02-01"}
    )
    assert missing_reason.status_code == 422 and "This field is required." in missing_reason.content.decode()
    assert Subscription.objects.get().status == SubscriptionStatus.ACTIVE
    assert client.post(url, {"action": "explode"}).status_code == 400


def test_viewers_see_the_panel_without_forms_and_cannot_post(viewer, account):
    services.create_subscription(
        confirm=True, account=account, product="Cloud", mrr=Decimal("10"), started_on=date(2026, 1, 1)
    )
    client = logged_in_client(viewer)
    page = client.get(f"/accounts/{account.pk}/subscriptions/").content.decode()
    assert "Cloud" in page and "Add a subscription" not in page
    assert client.post(f"/accounts/{account.pk}/subscriptions/", {"action": "add"}).status_code == 403


def test_forms_post_back_ids_the_page_wrote_even_past_a_thousand(csm, account):
    """Numbers are shown with thousands separators; an id in a form must never be (\"2,023\" is not an id)."""
    subscription = services.create_subscription(
        confirm=True, account=account, product="Cloud", mrr=Decimal("10"), started_on=date(2026, 1, 1)
    )
    Subscription.objects.filter(pk=subscription.pk).update(id=12345)
    MrrMovement.objects.filter(subscription_id=subscription.pk).update(subscription_id=12345)
    RenewalOpportunity.objects.filter(subscription_id=subscription.pk).update(subscription_id=12345)
    client = logged_in_client(csm)
    url = f"/accounts/{account.pk}/subscriptions/"
    page = client.get(url).content.decode()
    assert 'name="subscription" value="12345"' in page and "12,345" not in page
    reason = ChurnReason.objects.get(name="Budget cut")
    response = client.post(
        url,
        {
            "action": "cancel",
            "subscription": "12345",
            "cancel-12345-canceled_on": "2026-02-01",
            "cancel-12345-churn_reason": reason.pk,
        },
    )
    assert response.status_code == 200
    assert Subscription.objects.get().status == SubscriptionStatus.CANCELED
    assert client.post(url, {"action": "cancel", "subscription": "12,345"}).status_code == 400
    assert (
        client.post(url, {"action": "cancel", "subscription": "²"}).status_code == 400
    )  # isdigit() but not int()
