"""Renewals as a process: every write to renewal opportunities.

Each live subscription with a renewal date has an open opportunity for that date. A CSM moves it
through stages (not started, in discussion, commit) and forecast categories with an expected ARR,
then records the outcome: renewed (the renewal date moves on by the term, the next date opens its
own opportunity), downgraded (lower MRR, a contraction movement, the date moves on) or churned (the
subscription is canceled with its churn reason). The subscription changes only through
`revenue.services`, so the movements, timeline entries and events are the ones every other path
writes.

Keeping opportunities in step with subscriptions: `sync_opportunity` runs on every save of a
Subscription (a post_save receiver connected in RevenueConfig.ready()), inside the saving
transaction. Every path that changes a subscription (the services, Stripe, the CSV import, the
admin) saves the row, so none can leave a live subscription without its opportunity, and no
path needs to remember to call us.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from touchpoint.accounts.models import Account
from touchpoint.accounts.services import record_on_timeline
from touchpoint.confirmation import Confirm
from touchpoint.events.services import record_event
from touchpoint.revenue import services
from touchpoint.revenue.models import (
    LIVE_STATUSES,
    MAX_EXPECTED_ARR,
    OPEN_STAGES,
    OUTCOME_STAGES,
    ChurnReason,
    ForecastCategory,
    RenewalOpportunity,
    RenewalStage,
    Subscription,
    SubscriptionStatus,
)
from touchpoint.users.models import User
from touchpoint.users.services import record_audit

CENT = Decimal("0.01")
UNSET: Any = object()
# How far the next renewal date may be set past the one being closed: a longer term is a typo.
LONGEST_TERM_YEARS = 10
MAX_TEXT = 5000


def default_expected_arr(subscription: Subscription) -> Decimal:
    """What the renewal is worth if nothing changes: the subscription's ARR, in its currency."""
    return min((subscription.mrr * 12).quantize(CENT, ROUND_HALF_UP), MAX_EXPECTED_ARR)


def _close(
    opportunity: RenewalOpportunity, *, stage: str, reason: str, actor: User | None, arr: Decimal
) -> None:
    opportunity.stage = stage
    opportunity.forecast_category = (
        ForecastCategory.OMITTED if stage == RenewalStage.CHURNED else ForecastCategory.CLOSED
    )
    opportunity.outcome_reason = reason
    opportunity.expected_arr = min(arr, MAX_EXPECTED_ARR)
    opportunity.closed_at = timezone.now()
    opportunity.closed_by = actor if actor is not None and actor.pk else None
    opportunity.save()


def sync_opportunity(subscription: Subscription) -> RenewalOpportunity | None:
    """Make the subscription's opportunities agree with it; returns its open one, if it has one.

    - canceled: an opportunity still open is closed as churned (the cancellation's movement and
      reason are the record; this says the renewal did not happen);
    - live with a renewal date: an open opportunity for an older date that has passed was renewed
      by the billing system (Stripe moving the period on); one for a date not yet reached is moved
      to the new date (the date was corrected); then the date has its opportunity.
    Runs inside the transaction that saved the subscription.
    """
    open_ones = list(
        RenewalOpportunity.objects.select_for_update()
        .filter(subscription_id=subscription.pk, stage__in=OPEN_STAGES)
        .order_by("renewal_date")
    )
    if subscription.status == SubscriptionStatus.CANCELED:
        for opportunity in open_ones:
            _close(
                opportunity,
                stage=RenewalStage.CHURNED,
                reason="The subscription was canceled.",
                actor=None,
                arr=Decimal("0"),
            )
            record_audit(actor=None, action="close", instance=opportunity, changes={"stage": "churned"})
        return None
    if subscription.status not in LIVE_STATUSES or subscription.renewal_date is None:
        return open_ones[0] if open_ones else None
    target = subscription.renewal_date
    today = timezone.localdate()
    current = None
    for opportunity in open_ones:
        if opportunity.renewal_date == target:
            current = opportunity
        elif opportunity.renewal_date < target and opportunity.renewal_date <= today:
            _close(
                opportunity,
                stage=RenewalStage.RENEWED,
                reason="The renewal date moved on in billing.",
                actor=None,
                arr=default_expected_arr(subscription),
            )
            record_audit(actor=None, action="close", instance=opportunity, changes={"stage": "renewed"})
        elif (
            current is None
            and not RenewalOpportunity.objects.filter(
                subscription_id=subscription.pk, renewal_date=target
            ).exists()
        ):
            opportunity.renewal_date = target
            opportunity.save(update_fields=["renewal_date", "updated_at"])
            current = opportunity
    if current is None:
        current, created = RenewalOpportunity.objects.get_or_create(
            subscription_id=subscription.pk,
            renewal_date=target,
            defaults={
                "account_id": subscription.account_id,
                "expected_arr": default_expected_arr(subscription),
                "owner_id": Account.objects.filter(pk=subscription.account_id)
                .values_list("owner_id", flat=True)
                .first(),
            },
        )
        if created:
            record_event(
                kind="renewal.opened",
                account=subscription.account_id,
                subject=current,
                payload=opened_payload(
                    opportunity_id=current.pk,
                    subscription=subscription,
                    renewal_date=target,
                    expected_arr=current.expected_arr,
                ),
            )
        elif not current.is_open:
            return None
    return current


def opened_payload(
    *, opportunity_id: int, subscription: Subscription, renewal_date: date, expected_arr: Decimal
) -> dict[str, Any]:
    """The `renewal.opened` event's payload (the bulk import writes the same)."""
    return {
        "opportunity_id": opportunity_id,
        "subscription_id": subscription.pk,
        "renewal_date": renewal_date.isoformat(),
        "expected_arr": str(expected_arr),
        "currency": subscription.currency,
    }


def on_subscription_saved(sender: Any, instance: Subscription, raw: bool = False, **kwargs: Any) -> None:
    """post_save of Subscription (connected in RevenueConfig.ready()): keep its opportunities in step."""
    if raw:
        return  # loaddata: fixtures carry their own rows
    # Inside the saving transaction when there is one (a savepoint); a save in autocommit (a fixture,
    # a shell) gets a transaction of its own, which the row locks of sync_opportunity need.
    with transaction.atomic():
        sync_opportunity(instance)


def _amount(value: Any, field: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError({field: _("Enter an amount such as 1200 or 1200.50.")}) from None
    if not amount.is_finite() or amount < 0:
        raise ValidationError({field: _("The amount must be zero or more.")})
    if amount > MAX_EXPECTED_ARR:
        raise ValidationError({field: _("The amount is too large.")})
    return amount.quantize(CENT, ROUND_HALF_UP)


def _locked(opportunity: RenewalOpportunity) -> RenewalOpportunity:
    return (
        RenewalOpportunity.objects.select_for_update(of=("self",))  # the owner is an outer join
        .select_related("subscription", "account", "owner")
        .get(pk=opportunity.pk)
    )


def _stage_title(stage: str) -> str:
    return str(RenewalStage(stage).label)


@transaction.atomic
def update_opportunity(
    *,
    opportunity: RenewalOpportunity,
    actor: User | None,
    stage: str = UNSET,
    forecast_category: str = UNSET,
    expected_arr: Any = UNSET,
    notes: str = UNSET,
    owner: User | None = UNSET,
) -> RenewalOpportunity:
    """Move an open renewal on: its stage, forecast category, expected ARR, notes or owner.

    Every change is audited; a stage change also lands on the account's timeline. Outcomes
    (renewed, churned, downgraded) are recorded with `record_renewal_outcome`, which changes the
    subscription too.
    """
    opportunity = _locked(opportunity)
    if not opportunity.is_open:
        raise ValidationError({"stage": _("This renewal already has an outcome.")})
    wanted: dict[str, Any] = {}
    if stage is not UNSET:
        if stage in OUTCOME_STAGES:
            raise ValidationError(
                {"stage": _("Record an outcome with its own form: it changes the subscription.")}
            )
        if stage not in RenewalStage.values:
            raise ValidationError({"stage": _("Choose a stage from the list.")})
        wanted["stage"] = stage
    if forecast_category is not UNSET:
        if forecast_category not in ForecastCategory.values or forecast_category == ForecastCategory.CLOSED:
            raise ValidationError(
                {
                    "forecast_category": _(
                        "Choose pipeline, best case, commit or omitted; closed comes with an outcome."
                    )
                }
            )
        wanted["forecast_category"] = forecast_category
    if expected_arr is not UNSET:
        wanted["expected_arr"] = _amount(expected_arr, "expected_arr")
    if notes is not UNSET:
        if len(notes) > MAX_TEXT:
            raise ValidationError({"notes": _("Use at most %(count)d characters.") % {"count": MAX_TEXT}})
        wanted["notes"] = notes.strip()
    if owner is not UNSET:
        wanted["owner"] = owner
    diff: dict[str, list[str]] = {}
    for field, value in wanted.items():
        old = getattr(opportunity, field)
        if old != value:
            diff[field] = [str(old if old is not None else ""), str(value if value is not None else "")]
            setattr(opportunity, field, value)
    if not diff:
        return opportunity
    opportunity.save()
    record_audit(actor=actor, action="change", instance=opportunity, changes=diff)
    if "stage" in diff:
        old_stage, new_stage = diff["stage"]
        record_on_timeline(
            account=opportunity.account,
            kind="renewal_stage",
            title=f"Renewal of {opportunity.subscription} on {opportunity.renewal_date}: "
            f"{_english_stage(old_stage)} → {_english_stage(new_stage)}",
            actor=actor,
            subject=opportunity,
            data={
                "product": str(opportunity.subscription),
                "renewal_date": opportunity.renewal_date.isoformat(),
                "from": old_stage,
                "to": new_stage,
            },
        )
        record_event(
            kind="renewal.stage_changed",
            account=opportunity.account_id,
            subject=opportunity,
            actor=actor,
            payload={
                "opportunity_id": opportunity.pk,
                "subscription_id": opportunity.subscription_id,
                "renewal_date": opportunity.renewal_date.isoformat(),
                "from": old_stage,
                "to": new_stage,
            },
        )
    return opportunity


def _english_stage(stage: str) -> str:
    # Stored titles are plain English (the timeline renders them in the reader's language from data).
    return stage.replace("_", " ")


def next_renewal_date(opportunity: RenewalOpportunity) -> date:
    """The date after this renewal: one term of the subscription later."""
    return opportunity.renewal_date + relativedelta(months=opportunity.subscription.term_months)


@transaction.atomic
def record_renewal_outcome(
    *,
    opportunity: RenewalOpportunity,
    outcome: str,
    actor: User | None,
    reason: str = "",
    churn_reason: ChurnReason | None = None,
    new_mrr: Any = None,
    new_renewal_date: date | None = None,
    effective_on: date | None = None,
    confirm: Confirm = False,
) -> RenewalOpportunity:
    """Close a renewal with what happened, and change the subscription to match (one transaction).

    An unusual change (a new MRR over ten times the old) asks for confirmation as every revenue write
    does (`confirm`, see touchpoint.confirmation); nothing is written until it is given.

    - renewed: the renewal date moves on by the term (or to `new_renewal_date`) and the next date
      opens its own opportunity; a higher `new_mrr` is recorded as an expansion;
    - downgraded: `new_mrr` (above zero, below today's) is recorded as a contraction, the date moves on;
    - churned: the subscription is canceled with `churn_reason` (required), churn or contraction as
      every cancellation records it.
    Movements are dated `effective_on`: by default the renewal date, or today for a renewal recorded
    before its date. The outcome lands on the timeline, the audit log and the domain events.
    """
    if outcome not in OUTCOME_STAGES:
        raise ValidationError({"outcome": _("Choose renewed, downgraded or churned.")})
    reason = (reason or "").strip()
    if len(reason) > MAX_TEXT:
        raise ValidationError({"reason": _("Use at most %(count)d characters.") % {"count": MAX_TEXT}})
    # The account first, then the rows, in the order every revenue write takes them (services._lock_account).
    Account.objects.select_for_update().get(pk=opportunity.account_id)
    opportunity = _locked(opportunity)
    if not opportunity.is_open:
        raise ValidationError({"outcome": _("This renewal already has an outcome.")})
    subscription = Subscription.objects.select_for_update().get(pk=opportunity.subscription_id)
    if subscription.status == SubscriptionStatus.CANCELED:
        raise ValidationError({"outcome": _("The subscription is canceled: reactivate it first.")})
    today = timezone.localdate()
    effective = effective_on or min(opportunity.renewal_date, today)
    if effective > today:
        raise ValidationError({"effective_on": _("The date cannot be in the future.")})
    if effective < subscription.started_on:
        raise ValidationError({"effective_on": _("The date cannot be before the subscription started.")})
    amount: Decimal | None = None
    if new_mrr is not None and new_mrr != "":
        amount = services._money(new_mrr, "new_mrr")
    next_date: date | None = None
    if outcome == RenewalStage.CHURNED:
        if churn_reason is None:
            raise ValidationError({"churn_reason": _("Say why the customer left.")})
        if not churn_reason.is_active:
            raise ValidationError({"churn_reason": _("This reason is no longer offered.")})
        if amount is not None:
            raise ValidationError({"new_mrr": _("A churned renewal has no new MRR.")})
    else:
        next_date = new_renewal_date or next_renewal_date(opportunity)
        if next_date <= opportunity.renewal_date:
            raise ValidationError({"new_renewal_date": _("The next renewal comes after this one.")})
        if next_date > opportunity.renewal_date + relativedelta(years=LONGEST_TERM_YEARS):
            raise ValidationError({"new_renewal_date": _("A term longer than ten years is a typo, surely.")})
    if outcome == RenewalStage.DOWNGRADED:
        if amount is None:
            raise ValidationError({"new_mrr": _("Give the MRR after the downgrade.")})
        if amount <= 0:
            raise ValidationError({"new_mrr": _("No MRR left is a churn: record it as churned.")})
        if amount >= subscription.mrr:
            raise ValidationError({"new_mrr": _("A downgrade lowers the MRR below today's.")})
    if outcome == RenewalStage.RENEWED and amount is not None and amount < subscription.mrr:
        raise ValidationError({"new_mrr": _("A lower MRR is a downgrade: record it as downgraded.")})
    mrr_before = subscription.mrr
    mrr_after = (
        Decimal("0") if outcome == RenewalStage.CHURNED else (amount if amount is not None else mrr_before)
    )
    _close(
        opportunity,
        stage=outcome,
        reason=reason,
        actor=actor,
        arr=(mrr_after * 12).quantize(CENT, ROUND_HALF_UP),
    )
    if outcome == RenewalStage.CHURNED:
        opportunity.churn_reason = churn_reason
        opportunity.save(update_fields=["churn_reason"])
        services.cancel_subscription(
            subscription=subscription,
            canceled_on=effective,
            churn_reason=churn_reason,
            note=reason,
            actor=actor,
        )
    else:
        changes: dict[str, Any] = {"renewal_date": next_date}
        if amount is not None and amount != mrr_before:
            changes["mrr"] = amount
        if outcome == RenewalStage.DOWNGRADED and churn_reason is not None:
            opportunity.churn_reason = churn_reason
            opportunity.save(update_fields=["churn_reason"])
        services.change_subscription(
            subscription=subscription,
            occurred_on=effective,
            actor=actor,
            note=reason,
            churn_reason=churn_reason if outcome == RenewalStage.DOWNGRADED else None,
            confirm=confirm,
            **changes,
        )
    data = {
        "product": str(subscription),
        "renewal_date": opportunity.renewal_date.isoformat(),
        "outcome": outcome,
        "reason": churn_reason.name if churn_reason is not None else "",
        "note": reason,
        "mrr_before": str(mrr_before),
        "mrr_after": str(mrr_after),
        "currency": subscription.currency,
        "next_renewal_date": next_date.isoformat() if next_date else "",
    }
    record_on_timeline(
        account=opportunity.account,
        kind="renewal_outcome",
        title=f"Renewal of {subscription} on {opportunity.renewal_date}: {outcome}",
        body=reason,
        actor=actor,
        subject=opportunity,
        data=data,
    )
    record_audit(
        actor=actor,
        action="renewal_outcome",
        instance=opportunity,
        changes={
            "stage": outcome,
            "mrr": [str(mrr_before), str(mrr_after)],
            "next_renewal_date": data["next_renewal_date"],
        },
    )
    record_event(
        kind="renewal.outcome_recorded",
        account=opportunity.account_id,
        subject=opportunity,
        actor=actor,
        payload={"opportunity_id": opportunity.pk, "subscription_id": subscription.pk, **data},
    )
    return opportunity
