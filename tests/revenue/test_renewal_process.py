"""Renewals as a process: opportunities kept in step with subscriptions, stages, outcomes that change
the subscription through the revenue services."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from tests.factories import AccountFactory
from touchpoint.accounts.models import TimelineEntry
from touchpoint.events.models import DomainEvent
from touchpoint.revenue import renewal_process, services
from touchpoint.revenue.models import (
    ChurnReason,
    ForecastCategory,
    MovementKind,
    MrrMovement,
    RenewalOpportunity,
    RenewalStage,
    Subscription,
    SubscriptionStatus,
)
from touchpoint.users.models import AuditLogEntry

pytestmark = pytest.mark.django_db


def subscribe(account, *, mrr="1000", renews_in=30, started_days_ago=335, **extra) -> Subscription:
    today = timezone.localdate()
    return services.create_subscription(
        account=account,
        product="Cloud",
        mrr=mrr,
        started_on=today - timedelta(days=started_days_ago),
        renewal_date=today + timedelta(days=renews_in),
        **extra,
        confirm=True,  # a start before the test account was created is meant
    )


def opportunity_of(subscription) -> RenewalOpportunity:
    return RenewalOpportunity.objects.get(subscription=subscription, stage__in=renewal_process.OPEN_STAGES)


# --- Kept in step with subscriptions ------------------------------------------------------------


def test_a_new_subscription_opens_its_renewal_owned_by_the_account_owner(account, csm):
    subscription = subscribe(account, mrr="1000.50")
    opportunity = opportunity_of(subscription)
    assert opportunity.renewal_date == subscription.renewal_date
    assert (opportunity.stage, opportunity.forecast_category) == ("not_started", "pipeline")
    assert opportunity.expected_arr == Decimal("12006.00")
    assert opportunity.owner == csm and opportunity.account == account
    assert DomainEvent.objects.filter(kind="renewal.opened", subject_id=opportunity.pk).exists()


def test_a_trial_gets_no_renewal_until_it_turns_active(account):
    subscription = subscribe(account, status=SubscriptionStatus.TRIALING)
    assert not RenewalOpportunity.objects.exists()
    services.change_subscription(subscription=subscription, status=SubscriptionStatus.ACTIVE)
    assert opportunity_of(subscription).renewal_date == subscription.renewal_date


def test_correcting_a_renewal_date_moves_the_open_renewal_with_its_work(account, csm):
    subscription = subscribe(account, renews_in=40)
    opportunity = opportunity_of(subscription)
    renewal_process.update_opportunity(
        opportunity=opportunity, actor=csm, stage="commit", notes="Signed soon"
    )
    new_date = timezone.localdate() + timedelta(days=55)
    services.change_subscription(subscription=subscription, renewal_date=new_date)
    moved = RenewalOpportunity.objects.get(subscription=subscription)
    assert (moved.pk, moved.renewal_date, moved.stage, moved.notes) == (
        opportunity.pk,
        new_date,
        "commit",
        "Signed soon",
    )


def test_billing_moving_a_passed_date_on_closes_that_renewal_as_renewed(account):
    subscription = subscribe(account, renews_in=-3, external_id="sub_1")
    passed = opportunity_of(subscription)
    services.sync_subscription(
        account=None,
        external_id="sub_1",
        product="Cloud",
        mrr="1000",
        status="active",
        started_on=subscription.started_on,
        source="stripe",
        renewal_date=passed.renewal_date + timedelta(days=365),
    )
    passed.refresh_from_db()
    assert (passed.stage, passed.forecast_category) == ("renewed", "closed") and passed.closed_at
    assert opportunity_of(subscription).renewal_date == passed.renewal_date + timedelta(days=365)


def test_a_canceled_subscription_closes_its_open_renewal_as_churned(account):
    subscription = subscribe(account)
    services.cancel_subscription(
        subscription=subscription,
        canceled_on=timezone.localdate(),
        churn_reason=ChurnReason.objects.first(),
    )
    closed = RenewalOpportunity.objects.get(subscription=subscription)
    assert (closed.stage, closed.forecast_category, closed.expected_arr) == ("churned", "omitted", 0)
    assert closed.closed_at is not None


def test_the_database_keeps_one_renewal_per_date_and_bounded_amounts(account):
    subscription = subscribe(account)
    opportunity = opportunity_of(subscription)
    with pytest.raises(IntegrityError), transaction.atomic():
        RenewalOpportunity.objects.create(
            subscription=subscription,
            account=account,
            renewal_date=opportunity.renewal_date,
            expected_arr=Decimal("1"),
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        RenewalOpportunity.objects.filter(pk=opportunity.pk).update(expected_arr=Decimal("-1"))
    with pytest.raises(IntegrityError), transaction.atomic():
        RenewalOpportunity.objects.filter(pk=opportunity.pk).update(stage="renewed")  # an outcome is closed


def test_the_backfill_opens_a_renewal_for_every_live_subscription_that_has_none(account):
    live = subscribe(account)
    canceled = subscribe(AccountFactory())
    services.cancel_subscription(subscription=canceled, canceled_on=timezone.localdate())
    RenewalOpportunity.objects.all().delete()
    from importlib import import_module

    from django.apps import apps

    backfill = import_module("touchpoint.revenue.migrations.0006_backfill_renewal_opportunities").backfill
    backfill(apps, None)
    backfill(apps, None)  # twice: nothing doubles
    assert list(
        RenewalOpportunity.objects.values_list("subscription_id", "renewal_date", "expected_arr")
    ) == [(live.pk, live.renewal_date, Decimal("12000.00"))]


# --- Stage and forecast -------------------------------------------------------------------------


def test_a_stage_change_is_audited_and_on_the_timeline_a_forecast_change_only_audited(account, csm):
    opportunity = opportunity_of(subscribe(account))
    renewal_process.update_opportunity(
        opportunity=opportunity, actor=csm, forecast_category="best_case", expected_arr="9000"
    )
    assert not TimelineEntry.objects.filter(kind="renewal_stage").exists()
    renewal_process.update_opportunity(opportunity=opportunity, actor=csm, stage="in_discussion")
    entry = TimelineEntry.objects.get(kind="renewal_stage")
    assert entry.data["from"] == "not_started" and entry.data["to"] == "in_discussion"
    assert entry.actor == csm
    audits = AuditLogEntry.objects.filter(object_id=str(opportunity.pk), action="change").order_by("id")
    assert [sorted(a.changes) for a in audits] == [["expected_arr", "forecast_category"], ["stage"]]
    assert DomainEvent.objects.filter(kind="renewal.stage_changed").count() == 1
    opportunity.refresh_from_db()
    assert (opportunity.stage, opportunity.forecast_category, opportunity.expected_arr) == (
        "in_discussion",
        "best_case",
        Decimal("9000.00"),
    )


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"expected_arr": "1000000000000"}, "expected_arr"),  # a trillion
        ({"expected_arr": "-5"}, "expected_arr"),
        ({"expected_arr": "NaN"}, "expected_arr"),
        ({"expected_arr": "twelve"}, "expected_arr"),
        ({"stage": "renewed"}, "stage"),  # outcomes have their own service
        ({"stage": "won"}, "stage"),
        ({"forecast_category": "closed"}, "forecast_category"),
        ({"notes": "x" * 5001}, "notes"),
    ],
)
def test_bad_changes_are_refused_naming_the_field(account, csm, changes, field):
    opportunity = opportunity_of(subscribe(account))
    with pytest.raises(ValidationError) as error:
        renewal_process.update_opportunity(opportunity=opportunity, actor=csm, **changes)
    assert field in error.value.message_dict
    opportunity.refresh_from_db()
    assert (opportunity.stage, opportunity.expected_arr) == ("not_started", Decimal("12000.00"))


# --- Outcomes -------------------------------------------------------------------------------------


def test_renewed_moves_the_renewal_date_on_by_the_term_and_opens_the_next(account, csm):
    subscription = subscribe(account, renews_in=-10, term_months=12)
    opportunity = opportunity_of(subscription)
    due = opportunity.renewal_date
    renewal_process.record_renewal_outcome(
        opportunity=opportunity, outcome="renewed", actor=csm, reason="Happy"
    )
    opportunity.refresh_from_db()
    subscription.refresh_from_db()
    assert (opportunity.stage, opportunity.forecast_category, opportunity.closed_by) == (
        "renewed",
        "closed",
        csm,
    )
    assert subscription.renewal_date == due + relativedelta(months=12)
    following = opportunity_of(subscription)
    assert following.renewal_date == subscription.renewal_date and following.stage == "not_started"
    assert not MrrMovement.objects.exclude(kind=MovementKind.NEW).exists()  # no MRR change, no movement
    entry = TimelineEntry.objects.get(kind="renewal_outcome")
    assert entry.data["outcome"] == "renewed" and entry.actor == csm and entry.body == "Happy"
    assert DomainEvent.objects.filter(kind="renewal.outcome_recorded", subject_id=opportunity.pk).exists()
    assert AuditLogEntry.objects.filter(action="renewal_outcome", object_id=str(opportunity.pk)).exists()


def test_renewed_at_a_higher_price_records_an_expansion_and_a_chosen_next_date(account, csm):
    subscription = subscribe(account, renews_in=5)
    opportunity = opportunity_of(subscription)
    chosen = opportunity.renewal_date + timedelta(days=730)
    renewal_process.record_renewal_outcome(
        opportunity=opportunity, outcome="renewed", actor=csm, new_mrr="1200", new_renewal_date=chosen
    )
    subscription.refresh_from_db()
    assert (subscription.mrr, subscription.renewal_date) == (Decimal("1200.00"), chosen)
    expansion = MrrMovement.objects.get(kind=MovementKind.EXPANSION)
    assert expansion.delta == Decimal("200.00") and expansion.occurred_on == timezone.localdate()


def test_downgraded_records_a_contraction_and_moves_the_date_on(account, csm):
    subscription = subscribe(account, renews_in=-2)
    opportunity = opportunity_of(subscription)
    reason = ChurnReason.objects.get(name="Budget cut")
    renewal_process.record_renewal_outcome(
        opportunity=opportunity, outcome="downgraded", actor=csm, new_mrr="600", churn_reason=reason
    )
    subscription.refresh_from_db()
    opportunity.refresh_from_db()
    assert subscription.mrr == Decimal("600.00") and subscription.renewal_date > opportunity.renewal_date
    contraction = MrrMovement.objects.get(kind=MovementKind.CONTRACTION)
    assert (contraction.delta, contraction.churn_reason, contraction.occurred_on) == (
        Decimal("-400.00"),
        reason,
        opportunity.renewal_date,  # dated the renewal date when it has passed
    )
    assert (opportunity.stage, opportunity.expected_arr) == ("downgraded", Decimal("7200.00"))
    assert opportunity_of(subscription).expected_arr == Decimal("7200.00")


def test_churned_cancels_the_subscription_with_its_reason_through_the_churn_path(account, csm):
    subscription = subscribe(account, renews_in=-4)
    opportunity = opportunity_of(subscription)
    reason = ChurnReason.objects.get(name="Budget cut")
    renewal_process.record_renewal_outcome(
        opportunity=opportunity, outcome="churned", actor=csm, churn_reason=reason, reason="Lost the budget"
    )
    subscription.refresh_from_db()
    opportunity.refresh_from_db()
    assert (
        subscription.status == SubscriptionStatus.CANCELED
        and subscription.canceled_on == opportunity.renewal_date
    )
    churn = MrrMovement.objects.get(kind=MovementKind.CHURN)
    assert (churn.churn_reason, churn.note) == (reason, "Lost the budget")
    assert (opportunity.stage, opportunity.forecast_category, opportunity.churn_reason) == (
        "churned",
        ForecastCategory.OMITTED,
        reason,
    )
    assert opportunity.outcome_reason == "Lost the budget"
    assert not RenewalOpportunity.objects.filter(stage__in=renewal_process.OPEN_STAGES).exists()
    assert TimelineEntry.objects.get(kind="renewal_outcome").data["reason"] == "Budget cut"


def test_churning_one_of_two_subscriptions_is_a_contraction_as_every_cancellation(account, csm):
    first = subscribe(account)
    subscribe(account, mrr="300")
    renewal_process.record_renewal_outcome(
        opportunity=opportunity_of(first),
        outcome="churned",
        actor=csm,
        churn_reason=ChurnReason.objects.first(),
    )
    assert MrrMovement.objects.filter(subscription=first, kind=MovementKind.CONTRACTION).count() == 1


@pytest.mark.parametrize(
    "outcome, arguments, field",
    [
        ("won", {}, "outcome"),
        ("churned", {}, "churn_reason"),
        ("churned", {"new_mrr": "5", "churn_reason": True}, "new_mrr"),
        ("downgraded", {}, "new_mrr"),
        ("downgraded", {"new_mrr": "1000"}, "new_mrr"),  # not lower
        ("downgraded", {"new_mrr": "0"}, "new_mrr"),  # that is churn
        ("downgraded", {"new_mrr": "-1"}, "new_mrr"),
        ("renewed", {"new_mrr": "1000000000000"}, "new_mrr"),  # a trillion
        ("renewed", {"new_mrr": "900"}, "new_mrr"),  # lower: a downgrade
        ("renewed", {"new_renewal_date": "same"}, "new_renewal_date"),
        ("renewed", {"new_renewal_date": "century"}, "new_renewal_date"),
        ("renewed", {"effective_on": "tomorrow"}, "effective_on"),
        ("renewed", {"effective_on": "before start"}, "effective_on"),
        ("renewed", {"reason": "x" * 5001}, "reason"),
    ],
)
def test_bad_outcomes_are_refused_and_change_nothing(account, csm, outcome, arguments, field):
    subscription = subscribe(account)
    opportunity = opportunity_of(subscription)
    today = timezone.localdate()
    dates = {
        "same": opportunity.renewal_date,
        "century": opportunity.renewal_date + timedelta(days=365 * 11),
        "tomorrow": today + timedelta(days=1),
        "before start": subscription.started_on - timedelta(days=1),
    }
    arguments = {
        key: (ChurnReason.objects.first() if value is True else dates.get(value, value))
        for key, value in arguments.items()
    }
    with pytest.raises(ValidationError) as error:
        renewal_process.record_renewal_outcome(
            opportunity=opportunity, outcome=outcome, actor=csm, **arguments
        )
    assert field in error.value.message_dict
    subscription.refresh_from_db()
    assert (subscription.mrr, subscription.status) == (Decimal("1000.00"), "active")
    assert opportunity_of(subscription).pk == opportunity.pk
    assert (
        MrrMovement.objects.count() == 1 and not TimelineEntry.objects.filter(kind="renewal_outcome").exists()
    )


def test_an_outcome_is_recorded_once(account, csm):
    opportunity = opportunity_of(subscribe(account))
    renewal_process.record_renewal_outcome(opportunity=opportunity, outcome="renewed", actor=csm)
    with pytest.raises(ValidationError):
        renewal_process.record_renewal_outcome(opportunity=opportunity, outcome="renewed", actor=csm)
    with pytest.raises(ValidationError):
        renewal_process.update_opportunity(opportunity=opportunity, actor=csm, stage="commit")
    assert RenewalOpportunity.objects.filter(stage=RenewalStage.RENEWED).count() == 1


def test_an_inactive_churn_reason_is_not_accepted(account, csm):
    reason = ChurnReason.objects.create(name="Old reason", is_active=False)
    opportunity = opportunity_of(subscribe(account))
    with pytest.raises(ValidationError) as error:
        renewal_process.record_renewal_outcome(
            opportunity=opportunity, outcome="churned", actor=csm, churn_reason=reason
        )
    assert "churn_reason" in error.value.message_dict


# --- The demo company -----------------------------------------------------------------------------


def test_the_demo_has_renewals_at_every_stage_overdue_ones_and_closed_ones():
    anchor = date(2026, 11, 20)
    call_command("demo", "--accounts", "150", "--days", "540", "--seed", "5", "--today", anchor.isoformat())
    stages = set(RenewalOpportunity.objects.values_list("stage", flat=True))
    assert stages == set(RenewalStage.values)
    assert set(RenewalOpportunity.objects.values_list("forecast_category", flat=True)) >= {
        "pipeline",
        "best_case",
        "commit",
        "closed",
        "omitted",
    }
    overdue = RenewalOpportunity.objects.filter(
        stage__in=renewal_process.OPEN_STAGES, renewal_date__lt=anchor
    )
    assert overdue.exists()
    for opportunity in overdue.select_related("subscription"):
        assert (
            opportunity.subscription.renewal_date == opportunity.renewal_date
        )  # the subscription's own date
    live = Subscription.objects.filter(status__in=["active", "past_due"], renewal_date__isnull=False)
    assert set(live.values_list("pk", "renewal_date")) == set(
        RenewalOpportunity.objects.filter(stage__in=renewal_process.OPEN_STAGES).values_list(
            "subscription_id", "renewal_date"
        )
    )
    assert (
        TimelineEntry.objects.filter(kind="renewal_outcome").count()
        == RenewalOpportunity.objects.filter(closed_at__isnull=False).count()
    )
