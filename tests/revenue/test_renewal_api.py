"""Renewal opportunities over the REST API: filters, changes and outcomes through the services, 4xx
naming the field."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.factories import AccountFactory, UserFactory
from touchpoint.revenue import services
from touchpoint.revenue.models import (
    OPEN_STAGES,
    ChurnReason,
    MovementKind,
    MrrMovement,
    RenewalOpportunity,
    SubscriptionStatus,
)
from touchpoint.users.models import Role

pytestmark = pytest.mark.django_db


def fields(response) -> list[str]:
    return [error["field"] for error in response.json()["errors"]]


def subscribe(account, *, mrr="1000", renews_in=30):
    today = timezone.localdate()
    subscription = services.create_subscription(
        account=account,
        product="Cloud",
        mrr=mrr,
        started_on=today - timedelta(days=400),
        renewal_date=today + timedelta(days=renews_in),
        confirm=True,  # a start before the test account was created is meant
    )
    return subscription, RenewalOpportunity.objects.get(subscription=subscription, stage__in=OPEN_STAGES)


def test_list_filters_by_stage_owner_account_due_before_and_overdue(api, csm, account):
    other = UserFactory(role=Role.CSM)
    _s, late = subscribe(account, renews_in=-5)
    _s, soon = subscribe(AccountFactory(owner=csm), renews_in=10)
    _s, theirs = subscribe(AccountFactory(owner=other), renews_in=50)
    api.send("patch", f"/renewal-opportunities/{soon.pk}", {"stage": "commit"})

    def ids(**params) -> list[int]:
        response = api.get("/renewal-opportunities", **params)
        assert response.status_code == 200, response.content
        return [item["id"] for item in response.json()["items"]]

    assert ids() == [late.pk, soon.pk, theirs.pk]
    assert ids(overdue="true") == [late.pk]
    assert ids(overdue="false") == [soon.pk, theirs.pk]
    assert ids(stage="commit") == [soon.pk]
    assert ids(owner=other.pk) == [theirs.pk]
    assert ids(account=account.pk) == [late.pk]
    assert ids(due_before=(timezone.localdate() + timedelta(days=10)).isoformat()) == [late.pk, soon.pk]
    item = api.get(f"/renewal-opportunities/{late.pk}").json()
    assert (item["overdue"], item["days_left"], item["stage"], item["expected_arr"], item["currency"]) == (
        True,
        -5,
        "not_started",
        "12000.00",
        "USD",
    )
    assert item["owner"]["email"] == csm.email


@pytest.mark.parametrize(
    "params, field",
    [
        ({"stage": "won"}, "stage"),
        ({"due_before": "31-12-2026"}, "due_before"),
        ({"due_before": "9999-01-01"}, "due_before"),
        ({"due_before": "0"}, "due_before"),  # not seconds since 1970
        ({"due_before": "2026-02-31"}, "due_before"),
        ({"owner": "0"}, "owner"),
        ({"overdue": "perhaps"}, "overdue"),
    ],
)
def test_bad_filters_are_422_naming_them(api, params, field):
    response = api.get("/renewal-opportunities", **params)
    assert response.status_code == 422 and field in fields(response)


def test_patch_changes_only_what_is_sent(api, account):
    _s, opportunity = subscribe(account)
    response = api.send(
        "patch",
        f"/renewal-opportunities/{opportunity.pk}",
        {"forecast_category": "best_case", "expected_arr": "9000.50", "notes": "Call Tuesday"},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["stage"], body["forecast_category"], body["expected_arr"], body["notes"]) == (
        "not_started",
        "best_case",
        "9000.50",
        "Call Tuesday",
    )


@pytest.mark.parametrize(
    "body, field",
    [
        ({"expected_arr": "1000000000000"}, "expected_arr"),  # a trillion
        ({"expected_arr": "-1"}, "expected_arr"),
        ({"expected_arr": "1.001"}, "expected_arr"),
        ({"stage": "renewed"}, "stage"),  # an outcome: POST …/outcome
        ({"forecast_category": "closed"}, "forecast_category"),
        ({"stage": None}, "stage"),
        ({"owner": 999999}, "owner"),
        ({"colour": "red"}, "colour"),
        ({"notes": "a\x00b"}, "notes"),
    ],
)
def test_bad_patches_are_422_naming_the_field(api, account, body, field):
    _s, opportunity = subscribe(account)
    response = api.send("patch", f"/renewal-opportunities/{opportunity.pk}", body)
    assert response.status_code == 422, response.content
    assert field in fields(response)


def test_outcome_renewed_moves_the_subscription_on(api, account):
    subscription, opportunity = subscribe(account, renews_in=-1)
    response = api.send("post", f"/renewal-opportunities/{opportunity.pk}/outcome", {"outcome": "renewed"})
    assert response.status_code == 200, response.content
    assert response.json()["stage"] == "renewed" and response.json()["forecast_category"] == "closed"
    subscription.refresh_from_db()
    assert subscription.renewal_date > opportunity.renewal_date
    assert RenewalOpportunity.objects.get(subscription=subscription, stage__in=OPEN_STAGES).renewal_date == (
        subscription.renewal_date
    )
    again = api.send("post", f"/renewal-opportunities/{opportunity.pk}/outcome", {"outcome": "renewed"})
    assert again.status_code == 422 and "outcome" in fields(again)


def test_outcome_churned_needs_a_reason_and_cancels(api, account):
    subscription, opportunity = subscribe(account, renews_in=-1)
    url = f"/renewal-opportunities/{opportunity.pk}/outcome"
    assert "churn_reason" in fields(api.send("post", url, {"outcome": "churned"}))
    assert "churn_reason" in fields(api.send("post", url, {"outcome": "churned", "churn_reason": 999999}))
    reason = ChurnReason.objects.get(name="Budget cut")
    response = api.send("post", url, {"outcome": "churned", "churn_reason": reason.pk, "reason": "No budget"})
    assert response.status_code == 200 and response.json()["churn_reason"] == "Budget cut"
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.CANCELED
    assert MrrMovement.objects.get(kind=MovementKind.CHURN).churn_reason == reason


@pytest.mark.parametrize(
    "body, field",
    [
        ({"outcome": "downgraded"}, "new_mrr"),
        ({"outcome": "downgraded", "new_mrr": "1000000000000"}, "new_mrr"),
        ({"outcome": "downgraded", "new_mrr": "-3"}, "new_mrr"),
        ({"outcome": "renewed", "new_renewal_date": "1899-01-01"}, "new_renewal_date"),
        ({"outcome": "renewed", "new_renewal_date": "2999-12-31"}, "new_renewal_date"),
        ({"outcome": "renewed", "effective_on": "2999-01-01"}, "effective_on"),
        ({"outcome": "won"}, "outcome"),
        ({}, "outcome"),
    ],
)
def test_bad_outcomes_are_422_and_change_nothing(api, account, body, field):
    subscription, opportunity = subscribe(account)
    response = api.send("post", f"/renewal-opportunities/{opportunity.pk}/outcome", body)
    assert response.status_code == 422, response.content
    assert field in fields(response)
    subscription.refresh_from_db()
    assert (subscription.mrr, subscription.renewal_date) == (Decimal("1000.00"), opportunity.renewal_date)


def test_unknown_opportunity_is_404(api):
    assert api.get("/renewal-opportunities/999999").status_code == 404


def test_an_outcome_over_ten_times_the_price_is_409_until_confirmed(api, account):
    subscription, opportunity = subscribe(account, mrr="100")
    url = f"/renewal-opportunities/{opportunity.pk}/outcome"
    asked = api.send("post", url, {"outcome": "renewed", "new_mrr": "5000"})
    assert asked.status_code == 409, asked.content
    assert [(e["field"], e["code"]) for e in asked.json()["errors"]] == [("mrr", "mrr_jump")]
    subscription.refresh_from_db()
    assert subscription.mrr == Decimal("100.00")
    done = api.send("post", url, {"outcome": "renewed", "new_mrr": "5000", "confirm": ["mrr_jump"]})
    assert done.status_code == 200, done.content
    subscription.refresh_from_db()
    assert subscription.mrr == Decimal("5000.00")
