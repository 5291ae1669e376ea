"""Every write to subscriptions and MRR movements.

Each public function is one transaction: it validates, writes the subscription, records the MRR
movement the change makes (if any), puts it on the account timeline and in the audit log. Stripe
webhooks, CSV imports, the UI, the API and the demo all come through here, so a movement exists
exactly when MRR changed, whoever changed it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Literal, cast

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _

from touchpoint.accounts.models import Account
from touchpoint.accounts.services import record_on_timeline
from touchpoint.confirmation import Confirm, NeedsConfirmation, ask_to_confirm
from touchpoint.events.services import record_event
from touchpoint.revenue.models import (
    LIVE_STATUSES,
    ChurnReason,
    ExchangeRate,
    MovementKind,
    MovementSource,
    MrrMovement,
    Subscription,
    SubscriptionStatus,
)
from touchpoint.users.models import User
from touchpoint.users.services import record_audit

CENT = Decimal("0.01")
_UNSET: Any = object()
# A change of a subscription's MRR past this factor (up or down) asks for confirmation: it is far
# more often a typo (a zero too many) than a deal.
MRR_JUMP_FACTOR = Decimal(10)
# Dates a subscription may carry, as the API's Day type: far enough for any contract, and a term added
# to them cannot overflow.
FIRST_YEAR, LAST_YEAR = 1900, 2999


def reporting_currency() -> str:
    return settings.TOUCHPOINT_CURRENCY


def to_reporting(amount: Decimal, currency: str) -> Decimal:
    """`amount` in `currency`, converted to the reporting currency at today's rate."""
    currency = currency.upper()
    if currency == reporting_currency():
        return amount.quantize(CENT, ROUND_HALF_UP)
    rate = ExchangeRate.objects.filter(currency=currency).values_list("rate", flat=True).first()
    if rate is None:
        raise ValidationError(
            {
                "currency": _(
                    "No exchange rate from %(currency)s to %(reporting)s: an admin adds it under Exchange rates."
                )
                % {"currency": currency, "reporting": reporting_currency()}
            }
        )
    return (amount * rate).quantize(CENT, ROUND_HALF_UP)


def _money(value: Any, field: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError({field: _("Enter an amount such as 1200 or 1200.50.")}) from None
    if not amount.is_finite() or amount < 0:
        raise ValidationError({field: _("The amount must be zero or more.")})
    if amount >= Decimal("1e12"):
        raise ValidationError({field: _("The amount is too large.")})
    return amount.quantize(CENT, ROUND_HALF_UP)


def _currency(value: str) -> str:
    code = (value or "").strip().upper()
    if len(code) != 3 or not code.isalpha() or not code.isascii():
        raise ValidationError(
            {"currency": _("Use a three-letter ISO currency code such as USD, EUR or JPY.")}
        )
    return code


def _day(value: date | None, field: str) -> None:
    if value is not None and not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValidationError(
            {
                field: _("Enter a date between the years %(first)d and %(last)d.")
                % {"first": FIRST_YEAR, "last": LAST_YEAR}
            }
        )


def _renewal_not_before_start(renewal_date: date | None, started_on: date) -> None:
    if renewal_date is not None and renewal_date < started_on:
        raise ValidationError({"renewal_date": _("The renewal date cannot be before the start date.")})


# The warnings a write here may ask to confirm (touchpoint.confirmation), by code.
WARNING_CODES = frozenset({"start_before_account", "mrr_jump"})


def _start_warning(
    account: Account, started_on: date, *, zone: tzinfo | None = None
) -> dict[str, tuple[str, str]]:
    """A start before the account was created in Touchpoint: history, or a typo in the year?

    `zone`: the current time zone, when the caller has it at hand (asking costs, row after row)."""
    created = timezone.localdate(account.created_at, zone)
    if started_on >= created:
        return {}
    return {
        "started_on": (
            "start_before_account",
            _("This is before the account was created (%(created)s). Is the date right?")
            % {"created": date_format(created, "DATE_FORMAT")},
        )
    }


def _mrr_warning(before: Decimal, after: Decimal) -> dict[str, tuple[str, str]]:
    """An MRR change of more than ten times, up or down."""
    if before <= 0 or after == before:
        return {}
    if after <= before * MRR_JUMP_FACTOR and after * MRR_JUMP_FACTOR >= before:
        return {}
    return {
        "mrr": (
            "mrr_jump",
            _("This changes the MRR from %(before)s to %(after)s, more than ten times. Is the amount right?")
            % {
                "before": number_format(before, decimal_pos=2, use_l10n=True, force_grouping=True),
                "after": number_format(after, decimal_pos=2, use_l10n=True, force_grouping=True),
            },
        )
    }


def _at_noon(day: date, *, zone: tzinfo | None = None) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(12)), zone)


def account_mrr(account: Account, *, on: date | None = None) -> Decimal:
    """The account's live MRR in the reporting currency, from its movements (their running sum).

    `on`: as it was at the end of that day (movements dated later left out).
    """
    from django.db.models import Sum

    movements = MrrMovement.objects.filter(account=account)
    if on is not None:
        movements = movements.filter(occurred_on__lte=on)
    total = movements.aggregate(total=Sum("delta"))["total"]
    return total or Decimal("0")


def _record_movement(
    *,
    subscription: Subscription,
    kind: str,
    occurred_on: date,
    mrr_before: Decimal,
    mrr_after: Decimal,
    churn_reason: ChurnReason | None = None,
    note: str = "",
    source: str = MovementSource.MANUAL,
    actor: User | None = None,
    subscription_before: dict[str, Any] | None = None,
) -> MrrMovement:
    movement = MrrMovement(
        subscription=subscription,
        account_id=subscription.account_id,
        kind=kind,
        occurred_on=occurred_on,
        mrr_before=mrr_before,
        mrr_after=mrr_after,
        delta=mrr_after - mrr_before,
        currency=subscription.currency,
        churn_reason=churn_reason,
        note=note,
        source=source,
        actor=actor if actor is not None and actor.pk else None,
        subscription_before=subscription_before or {},
    )
    movement.save()
    currency, reason = reporting_currency(), churn_reason.name if churn_reason else ""
    record_on_timeline(
        account=subscription.account,
        kind="mrr_movement",
        title=movement_title(str(movement.get_kind_display()), subscription, movement.delta, currency),
        body=note,
        occurred_at=_at_noon(occurred_on),
        actor=actor,
        subject=movement,
        data=movement_timeline_data(
            kind=kind,
            product=str(subscription),
            delta=movement.delta,
            mrr_after=mrr_after,
            currency=currency,
            reason=reason,
        ),
    )
    record_event(
        kind="mrr.movement",
        account=subscription.account_id,
        subject=movement,
        actor=actor,
        occurred_at=_at_noon(occurred_on),
        payload=movement_payload(
            movement_id=movement.pk,
            subscription_id=subscription.pk,
            kind=kind,
            occurred_on=occurred_on,
            mrr_before=mrr_before,
            mrr_after=mrr_after,
            currency=currency,
            reason=reason,
            source=source,
        ),
    )
    return movement


# What a movement records around itself, built here for the one-row services and the bulk import alike.


def movement_title(label: str, subscription: Subscription, delta: Decimal, currency: str) -> str:
    return f"{label}: {subscription} {delta:+} {currency} MRR"


def movement_timeline_data(
    *, kind: str, product: str, delta: Decimal, mrr_after: Decimal, currency: str, reason: str
) -> dict[str, Any]:
    return {
        "kind": kind,
        "product": product,
        "delta": str(delta),
        "mrr_after": str(mrr_after),
        "currency": currency,
        "reason": reason,
    }


def movement_payload(
    *,
    movement_id: int,
    subscription_id: int,
    kind: str,
    occurred_on: date,
    mrr_before: Decimal,
    mrr_after: Decimal,
    currency: str,
    reason: str,
    source: str,
) -> dict[str, Any]:
    """The `mrr.movement` event's payload."""
    return {
        "movement_id": movement_id,
        "subscription_id": subscription_id,
        "kind": kind,
        "occurred_on": occurred_on.isoformat(),
        "mrr_before": str(mrr_before),
        "mrr_after": str(mrr_after),
        "delta": str(mrr_after - mrr_before),
        "currency": currency,
        "churn_reason": reason,
        "source": source,
    }


def _as_json(values: dict[str, Any]) -> dict[str, Any]:
    """Field values as JSON keeps them (dates as ISO text, amounts as text), for `subscription_before`."""
    out: dict[str, Any] = {}
    for field, value in values.items():
        if isinstance(value, date):
            out[field] = value.isoformat()
        elif isinstance(value, Decimal):
            out[field] = str(value)
        else:
            out[field] = value
    return out


def _current_reporting_mrr(subscription: Subscription) -> Decimal:
    """What the subscription contributes now, as its movements recorded it."""
    last = (
        subscription.movements.effective()
        .order_by("-occurred_on", "-id")
        .values_list("mrr_after", flat=True)
        .first()
    )
    return last if last is not None else Decimal("0")


def _kind_of_increase(account: Account, *, before: Decimal, on: date) -> str:
    """What MRR arriving on one subscription on day `on` is for the account as a whole then.

    Read as of that day, so history written after the fact (an import of past billing periods) is
    classed as it was lived: a start while another subscription was paying is an expansion.
    """
    if before > 0 or account_mrr(account, on=on) > 0:
        return MovementKind.EXPANSION  # a paying customer spends more (a bigger plan, or another product)
    if (
        MrrMovement.objects.effective()
        .filter(account=account, kind=MovementKind.CHURN, occurred_on__lte=on)
        .exists()
    ):
        return MovementKind.REACTIVATION  # a customer who had left comes back
    return MovementKind.NEW


def _kind_of_decrease(account: Account, *, delta: Decimal, on: date) -> str:
    """What MRR leaving one subscription on day `on` is for the account: churn only when nothing is left."""
    return MovementKind.CHURN if account_mrr(account, on=on) + delta <= 0 else MovementKind.CONTRACTION


def _lock_account(account_id: int) -> Account:
    """Lock the account row for the rest of the transaction, before reading its MRR.

    Whether MRR leaving is churn or contraction (and arriving is new, expansion or reactivation)
    depends on the account's MRR across ALL its subscriptions. Two changes to different
    subscriptions of one account at once (two cancellations, say) would each read the other's MRR
    as still there, each record a contraction, and the account would reach zero without a churn.
    Every revenue write takes this lock first (then the subscription's), so they take turns per
    account in one order and cannot deadlock each other. SQLite needs no lock: one writer at a time.
    """
    return Account.objects.select_for_update().get(pk=account_id)


def subscription_payload(subscription: Subscription, **fields: Any) -> dict[str, Any]:
    """A subscription event's payload: which subscription, and what the event says of it."""
    return {"subscription_id": subscription.pk, "external_id": subscription.external_id, **fields}


def _subscription_event(kind: str, subscription: Subscription, actor: User | None, **payload: Any) -> None:
    record_event(
        kind=kind,
        account=subscription.account_id,
        subject=subscription,
        actor=actor,
        payload=subscription_payload(subscription, **payload),
    )


@transaction.atomic
def create_subscription(
    *,
    account: Account,
    product: str,
    mrr: Any,
    started_on: date,
    plan: str = "",
    quantity: int = 1,
    currency: str = "",
    term_months: int = 12,
    renewal_date: date | None = None,
    auto_renew: bool = True,
    status: str = SubscriptionStatus.ACTIVE,
    external_id: str | None = None,
    deal_opened_on: date | None = None,
    deal_closed_on: date | None = None,
    first_paid_on: date | None = None,
    actor: User | None = None,
    source: str = MovementSource.MANUAL,
    note: str = "",
    confirm: Confirm = False,
) -> Subscription:
    """Start a subscription; a live one with MRR records a `new` (or `reactivation`) movement.

    A start before the account was created asks for confirmation (`confirm`, see touchpoint.confirmation).
    """
    if not (product or "").strip():
        raise ValidationError({"product": _("Name the product.")})
    if status not in SubscriptionStatus.values or status == SubscriptionStatus.CANCELED:
        raise ValidationError({"status": _("A new subscription is trialing, active or past due.")})
    if term_months < 1:
        raise ValidationError({"term_months": _("The term is at least one month.")})
    if quantity < 0:
        raise ValidationError({"quantity": _("Seats cannot be negative.")})
    if external_id and Subscription.objects.filter(external_id=external_id).exists():
        raise ValidationError({"external_id": _("A subscription with this external ID already exists.")})
    amount = _money(mrr, "mrr")
    code = _currency(currency or reporting_currency())
    for field, day in (
        ("started_on", started_on),
        ("renewal_date", renewal_date),
        ("deal_opened_on", deal_opened_on),
        ("deal_closed_on", deal_closed_on),
        ("first_paid_on", first_paid_on),
    ):
        _day(day, field)
    _renewal_not_before_start(renewal_date, started_on)
    account = _lock_account(account.pk)
    ask_to_confirm(_start_warning(account, started_on), confirm)
    subscription = Subscription.objects.create(
        account=account,
        external_id=external_id or None,
        product=product.strip(),
        plan=plan.strip(),
        quantity=quantity,
        mrr=amount,
        currency=code,
        status=status,
        started_on=started_on,
        term_months=term_months,
        renewal_date=renewal_date or started_on + relativedelta(months=term_months),
        auto_renew=auto_renew,
        deal_opened_on=deal_opened_on,
        deal_closed_on=deal_closed_on,
        first_paid_on=first_paid_on,
    )
    if status in LIVE_STATUSES and amount > 0:
        kind = _kind_of_increase(account, before=Decimal("0"), on=started_on)
        _record_movement(
            subscription=subscription,
            kind=kind,
            occurred_on=started_on,
            mrr_before=Decimal("0"),
            mrr_after=to_reporting(amount, code),
            note=note,
            source=source,
            actor=actor,
            # Voiding it leaves the subscription as if it had never started.
            subscription_before={
                "status": SubscriptionStatus.CANCELED,
                "canceled_on": started_on.isoformat(),
            },
        )
    record_audit(
        actor=actor, action="create", instance=subscription, changes={"mrr": str(amount), "currency": code}
    )
    _subscription_event(
        "subscription.created",
        subscription,
        actor,
        product=subscription.product,
        plan=subscription.plan,
        mrr=str(amount),
        currency=code,
        status=status,
        started_on=started_on.isoformat(),
        source=source,
    )
    return subscription


_CHANGEABLE = (
    "product",
    "plan",
    "quantity",
    "mrr",
    "currency",
    "term_months",
    "renewal_date",
    "auto_renew",
    "external_id",
    "deal_opened_on",
    "deal_closed_on",
    "first_paid_on",
)


@transaction.atomic
def change_subscription(
    *,
    subscription: Subscription,
    occurred_on: date | None = None,
    actor: User | None = None,
    source: str = MovementSource.MANUAL,
    note: str = "",
    churn_reason: ChurnReason | None = None,
    confirm: Confirm = False,
    **changes: Any,
) -> Subscription:
    """Change a live subscription's terms; an MRR change records an expansion or contraction.

    A trialing subscription that gets MRR and turns active is started (`status="active"` with it).
    Cancelling and reactivating have their own functions because they need a date and a reason.
    An MRR change of more than ten times asks for confirmation (`confirm`).
    """
    unknown = set(changes) - set(_CHANGEABLE) - {"status"}
    if unknown:
        raise ValidationError({sorted(unknown)[0]: _("This field cannot be changed here.")})
    _lock_account(subscription.account_id)
    subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
    if subscription.status == SubscriptionStatus.CANCELED:
        raise ValidationError({"status": _("The subscription is canceled: reactivate it first.")})
    day = occurred_on or timezone.localdate()
    before = _current_reporting_mrr(subscription)
    diff: dict[str, Any] = {}
    if "mrr" in changes:
        changes["mrr"] = _money(changes["mrr"], "mrr")
    if "currency" in changes:
        changes["currency"] = _currency(changes["currency"])
    if (
        "external_id" in changes
        and changes["external_id"]
        and Subscription.objects.filter(external_id=changes["external_id"])
        .exclude(pk=subscription.pk)
        .exists()
    ):
        raise ValidationError({"external_id": _("A subscription with this external ID already exists.")})
    if "status" in changes and changes["status"] not in (*LIVE_STATUSES, SubscriptionStatus.TRIALING):
        raise ValidationError({"status": _("Use cancel to end a subscription.")})
    if "quantity" in changes and changes["quantity"] < 0:
        raise ValidationError({"quantity": _("Seats cannot be negative.")})
    for field in ("renewal_date", "deal_opened_on", "deal_closed_on", "first_paid_on"):
        _day(changes.get(field), field)
    _day(occurred_on, "occurred_on")
    if "renewal_date" in changes and changes["renewal_date"] != subscription.renewal_date:
        # Only a new date is checked: a form sends the old one back with any other change.
        _renewal_not_before_start(changes["renewal_date"], subscription.started_on)
    if "mrr" in changes:
        ask_to_confirm(_mrr_warning(subscription.mrr, changes["mrr"]), confirm)
    previous: dict[str, Any] = {}
    for field, value in changes.items():
        if getattr(subscription, field) != value:
            diff[field] = [str(getattr(subscription, field)), str(value)]
            previous[field] = getattr(subscription, field)
            setattr(subscription, field, value)
    if not diff:
        return subscription
    subscription.save()
    after = to_reporting(subscription.mrr, subscription.currency) if subscription.is_live else Decimal("0")
    if after != before:
        if after > before:
            kind = _kind_of_increase(subscription.account, before=before, on=day)
        else:
            kind = _kind_of_decrease(subscription.account, delta=after - before, on=day)
        _record_movement(
            subscription=subscription,
            kind=kind,
            occurred_on=day,
            mrr_before=before,
            mrr_after=after,
            churn_reason=churn_reason if kind in (MovementKind.CONTRACTION, MovementKind.CHURN) else None,
            note=note,
            source=source,
            actor=actor,
            subscription_before=_as_json(previous),
        )
    record_audit(actor=actor, action="change", instance=subscription, changes=diff)
    _subscription_event("subscription.changed", subscription, actor, changes=diff, source=source)
    return subscription


@transaction.atomic
def cancel_subscription(
    *,
    subscription: Subscription,
    canceled_on: date,
    churn_reason: ChurnReason | None = None,
    note: str = "",
    actor: User | None = None,
    source: str = MovementSource.MANUAL,
) -> Subscription:
    """End a subscription: its MRR leaves as churn (contraction if the account keeps another one)."""
    _lock_account(subscription.account_id)
    subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
    if subscription.status == SubscriptionStatus.CANCELED:
        return subscription  # cancelling twice (a replayed webhook, say) changes nothing
    _day(canceled_on, "canceled_on")
    before = _current_reporting_mrr(subscription)
    previous = {"status": subscription.status, "canceled_on": None, "auto_renew": subscription.auto_renew}
    subscription.status = SubscriptionStatus.CANCELED
    subscription.canceled_on = canceled_on
    subscription.auto_renew = False
    subscription.save()
    if before > 0:
        _record_movement(
            subscription=subscription,
            kind=_kind_of_decrease(subscription.account, delta=-before, on=canceled_on),
            occurred_on=canceled_on,
            mrr_before=before,
            mrr_after=Decimal("0"),
            churn_reason=churn_reason,
            note=note,
            source=source,
            actor=actor,
            subscription_before=previous,
        )
    record_audit(
        actor=actor,
        action="cancel",
        instance=subscription,
        changes={"reason": churn_reason.name if churn_reason else ""},
    )
    _subscription_event(
        "subscription.canceled",
        subscription,
        actor,
        canceled_on=canceled_on.isoformat(),
        churn_reason=churn_reason.name if churn_reason else "",
        source=source,
    )
    return subscription


@transaction.atomic
def reactivate_subscription(
    *,
    subscription: Subscription,
    reactivated_on: date,
    mrr: Any = _UNSET,
    renewal_date: date | None = None,
    note: str = "",
    actor: User | None = None,
    source: str = MovementSource.MANUAL,
) -> Subscription:
    """Bring a canceled subscription back: a reactivation (or expansion, if the account still pays)."""
    _lock_account(subscription.account_id)
    subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
    if subscription.status != SubscriptionStatus.CANCELED:
        raise ValidationError({"status": _("Only a canceled subscription can be reactivated.")})
    _day(reactivated_on, "reactivated_on")
    _day(renewal_date, "renewal_date")
    _renewal_not_before_start(renewal_date, subscription.started_on)
    previous = _as_json(
        {
            "status": subscription.status,
            "canceled_on": subscription.canceled_on,
            "mrr": subscription.mrr,
            "renewal_date": subscription.renewal_date,
        }
    )
    if mrr is not _UNSET:
        subscription.mrr = _money(mrr, "mrr")
    if subscription.mrr <= 0:
        raise ValidationError({"mrr": _("A reactivated subscription needs MRR above zero.")})
    subscription.status = SubscriptionStatus.ACTIVE
    subscription.canceled_on = None
    subscription.renewal_date = renewal_date or reactivated_on + relativedelta(
        months=subscription.term_months
    )
    subscription.save()
    _record_movement(
        subscription=subscription,
        kind=_kind_of_increase(subscription.account, before=Decimal("0"), on=reactivated_on),
        occurred_on=reactivated_on,
        mrr_before=Decimal("0"),
        mrr_after=to_reporting(subscription.mrr, subscription.currency),
        note=note,
        source=source,
        actor=actor,
        subscription_before=previous,
    )
    record_audit(
        actor=actor, action="reactivate", instance=subscription, changes={"mrr": str(subscription.mrr)}
    )
    _subscription_event(
        "subscription.reactivated",
        subscription,
        actor,
        reactivated_on=reactivated_on.isoformat(),
        mrr=str(subscription.mrr),
        currency=subscription.currency,
        source=source,
    )
    return subscription


@transaction.atomic
def sync_subscription(
    *,
    account: Account | None,
    external_id: str,
    product: str,
    mrr: Any,
    status: str,
    started_on: date,
    source: str,
    currency: str | None = None,
    plan: str | None = None,
    quantity: int | None = None,
    term_months: int | None = None,
    renewal_date: date | None = None,
    auto_renew: bool | None = None,
    canceled_on: date | None = None,
    churn_reason: ChurnReason | None = None,
    occurred_on: date | None = None,
    actor: User | None = None,
    confirm: Confirm = False,
) -> tuple[Subscription, str]:
    """Make the subscription with this external ID look as a billing system says; returns it and
    "created", "updated" or "unchanged".

    Stripe webhooks and CSV imports both come through here, so the same facts make the same rows
    and movements whichever way they arrive. Fields given as None are left as they are (a CSV
    without a plan column keeps the plan). A subscription seen for the first time already canceled
    is recorded with its history: started (a `new` movement), then canceled (churn or contraction).
    A reactivation is dated `occurred_on` (today by default), never before the day it was canceled.
    `account` is used only to create the subscription (required then); an existing one stays with
    its account. `confirm` accepts the warnings of create and change (Stripe, real billing data,
    sends True; the CSV import a row's `confirm` column).
    """
    day = occurred_on or timezone.localdate()
    optional: dict[str, Any] = {
        "currency": currency,
        "plan": plan,
        "quantity": quantity,
        "term_months": term_months,
        "renewal_date": renewal_date,
        "auto_renew": auto_renew,
    }
    given = {field: value for field, value in optional.items() if value is not None}
    subscription = Subscription.objects.filter(external_id=external_id).first()
    if subscription is None:
        if account is None:
            raise ValidationError({"account": _("Name the account of a new subscription.")})
        subscription = create_subscription(
            account=account,
            external_id=external_id,
            product=product,
            mrr=mrr,
            started_on=started_on,
            status=SubscriptionStatus.ACTIVE if status == SubscriptionStatus.CANCELED else status,
            source=source,
            actor=actor,
            confirm=confirm,
            **given,
        )
        if status == SubscriptionStatus.CANCELED:
            cancel_subscription(
                subscription=subscription,
                canceled_on=canceled_on or day,
                churn_reason=churn_reason,
                source=source,
                actor=actor,
            )
        return subscription, "created"
    if status == SubscriptionStatus.CANCELED:
        if subscription.status == SubscriptionStatus.CANCELED:
            return subscription, "unchanged"
        cancel_subscription(
            subscription=subscription,
            canceled_on=canceled_on or day,
            churn_reason=churn_reason,
            source=source,
            actor=actor,
        )
        return subscription, "updated"
    outcome = "unchanged"
    if subscription.status == SubscriptionStatus.CANCELED:
        subscription = reactivate_subscription(
            subscription=subscription,
            reactivated_on=max(day, subscription.canceled_on or day),
            mrr=mrr,
            renewal_date=renewal_date,
            source=source,
            actor=actor,
        )
        outcome = "updated"
    wanted: dict[str, Any] = {
        "product": (product or "").strip(),
        "mrr": _money(mrr, "mrr"),
        "status": status,
        **given,
    }
    if "currency" in wanted:
        wanted["currency"] = _currency(wanted["currency"])
    changes = {field: value for field, value in wanted.items() if getattr(subscription, field) != value}
    if changes:
        change_subscription(
            subscription=subscription, occurred_on=day, source=source, actor=actor, confirm=confirm, **changes
        )
        outcome = "updated"
    return subscription, outcome


# --- A subscription's history, from billing periods --------------------------------------------

# Billing periods this many days apart or closer are one life of the subscription (a period ending
# on the 31st and the next starting on the 2nd is not a churn); a longer gap is a churn and a return.
HISTORY_GAP_DAYS = 3


@dataclass(frozen=True)
class BillingPeriod:
    """One period a subscription was billed for: [start, end] at `mrr` (its own currency)."""

    start: date
    end: date
    mrr: Decimal
    row: int = 0  # where it came from (a CSV row), for problems


@dataclass(frozen=True)
class HistoryStep:
    """A change of the subscription's MRR the periods show: it starts, changes or ends on `day`."""

    kind: Literal["start", "change", "end"]
    day: date
    mrr: Decimal  # after the step (zero for an end)
    row: int = 0


def collapse_periods(
    periods: Iterable[BillingPeriod], *, today: date, gap_days: int = HISTORY_GAP_DAYS
) -> tuple[list[HistoryStep], date | None]:
    """Billing periods → the subscription's lives, as steps; and its renewal date if it still runs.

    Periods are taken in order of start. A period starting at most `gap_days` after the end of the
    one before continues the same life (a different amount is a change on its start day); a later
    one starts a new life, and the life before ends on its last period's end. The last life ends on
    its last period's end if that is before `today`; otherwise the subscription is live and renews
    on that end. A period with no amount is no revenue: it counts as a gap. Overlapping periods are
    the caller's to refuse (they are ambiguous); here they simply extend the life.
    """
    steps: list[HistoryStep] = []
    live: Decimal | None = None  # the MRR of the life in progress
    last_end: date | None = None
    last_row = 0
    for period in sorted(periods, key=lambda p: (p.start, p.end, p.row)):
        if period.mrr <= 0:
            continue
        if live is not None and last_end is not None and period.start > last_end + timedelta(days=gap_days):
            steps.append(HistoryStep("end", last_end, Decimal("0"), last_row))
            live = None
        if live is None:
            steps.append(HistoryStep("start", period.start, period.mrr, period.row))
            last_end = period.end
        else:
            if period.mrr != live:
                steps.append(HistoryStep("change", period.start, period.mrr, period.row))
            last_end = max(cast(date, last_end), period.end)
        live = period.mrr
        last_row = period.row
    if live is None or last_end is None:
        return steps, None
    if last_end < today:
        steps.append(HistoryStep("end", last_end, Decimal("0"), last_row))
        return steps, None
    return steps, last_end


@dataclass
class SubscriptionHistory:
    """What a file says of one subscription: its billing periods and its latest terms."""

    external_id: str
    product: str
    periods: list[BillingPeriod]
    currency: str | None = None
    plan: str | None = None
    quantity: int | None = None
    term_months: int | None = None
    auto_renew: bool | None = None
    confirm: bool = False
    row: int = 0  # its first row


class HistoryProblem(Exception):
    """A subscription's history cannot be written: the service's error, and the row it is about."""

    def __init__(self, error: ValidationError, row: int) -> None:
        super().__init__(" ".join(error.messages))
        self.error, self.row = error, row
        self.needs_confirmation = isinstance(error, NeedsConfirmation)


@transaction.atomic
def record_subscription_histories(
    *,
    account: Account,
    histories: list[SubscriptionHistory],
    source: str = MovementSource.IMPORT,
    actor: User | None = None,
    today: date | None = None,
) -> dict[str, str]:
    """Make the account's subscriptions' MRR history what their billing periods say; one transaction.

    Each history is collapsed into lives (`collapse_periods`). What is already recorded and agrees
    (the same days and amounts, in order) stays; movements after the first disagreement are voided
    if they came from the same source (a month appended to a file turns its last churn back into a
    live subscription), and refused otherwise. The steps still to write go through the services
    above, every subscription of the account together in date order, so a start while another
    subscription pays is an expansion and an end while another pays a contraction. Returns each
    external ID's outcome: "created", "updated" or "unchanged". Raises HistoryProblem (the
    ValidationError, and the row of the file it is about).
    """
    today = today or timezone.localdate()
    account = _lock_account(account.pk)
    outcomes: dict[str, str] = {}
    pending: list[tuple[HistoryStep, SubscriptionHistory]] = []
    renewals: dict[str, date | None] = {}
    for history in histories:
        try:
            steps, renewals[history.external_id] = collapse_periods(history.periods, today=today)
            outcomes[history.external_id], todo = _steps_to_write(account, history, steps, source, actor)
        except ValidationError as error:
            raise HistoryProblem(error, history.row) from None
        pending += [(step, history) for step in todo]
    # Every subscription of the account in date order; on one day, MRR arriving before MRR leaving.
    pending.sort(key=lambda item: (item[0].day, item[0].kind == "end", item[0].row))
    for step, history in pending:
        try:
            _write_step(account, step, history, source=source, actor=actor)
        except ValidationError as error:
            raise HistoryProblem(error, step.row) from None
    for history in histories:
        try:
            changed = _write_terms(history, renewals[history.external_id], source=source, actor=actor)
            if changed and outcomes[history.external_id] == "unchanged":
                outcomes[history.external_id] = "updated"
        except ValidationError as error:
            raise HistoryProblem(error, history.row) from None
    return outcomes


def _steps_to_write(
    account: Account, history: SubscriptionHistory, steps: list[HistoryStep], source: str, actor: User | None
) -> tuple[str, list[HistoryStep]]:
    """The history's outcome and the steps not recorded yet (voiding what an earlier import got wrong)."""
    if not steps:
        raise ValidationError(
            {"mrr": _("Every billing period of this subscription has no amount: nothing to import.")}
        )
    for step in steps:
        _day(step.day, "started_on")
    currency = _currency(history.currency or reporting_currency())
    subscription = Subscription.objects.filter(external_id=history.external_id).first()
    if subscription is None:
        return "created", steps
    if subscription.account_id != account.pk:
        raise ValidationError({"account": _("This subscription is already recorded for another account.")})
    recorded = list(subscription.movements.effective().order_by("occurred_on", "id"))
    agree = 0
    for movement, step in zip(recorded, steps, strict=False):
        amount = to_reporting(step.mrr, currency) if step.kind != "end" else Decimal("0")
        if (movement.occurred_on, movement.mrr_after) != (step.day, amount):
            break
        agree += 1
    for movement in reversed(recorded[agree:]):
        if movement.source != source:
            raise ValidationError(
                {
                    "started_on": _(
                        "The subscription's recorded history differs from the file on %(day)s, and that "
                        "change was not imported: void it on the subscription first."
                    )
                    % {"day": date_format(movement.occurred_on, "DATE_FORMAT")}
                }
            )
        void_movement(movement=movement, reason=HISTORY_VOID_REASON, actor=actor)
    changed = agree < len(recorded) or agree < len(steps)
    return ("updated" if changed else "unchanged"), steps[agree:]


# Plain English, as the system's own timeline entries are (see accounts.services.record_on_timeline).
HISTORY_VOID_REASON = "Replaced by a newer import of this subscription's billing periods."


def _write_step(
    account: Account, step: HistoryStep, history: SubscriptionHistory, *, source: str, actor: User | None
) -> None:
    subscription = Subscription.objects.filter(external_id=history.external_id).first()
    if subscription is None:
        # The first step of a new subscription is its start (collapse_periods begins with one).
        create_subscription(
            account=account,
            external_id=history.external_id,
            product=history.product,
            mrr=step.mrr,
            started_on=step.day,
            currency=history.currency or "",
            plan=history.plan or "",
            quantity=history.quantity if history.quantity is not None else 1,
            term_months=history.term_months or 12,
            auto_renew=history.auto_renew if history.auto_renew is not None else True,
            source=source,
            actor=actor,
            confirm=history.confirm,
        )
    elif step.kind == "start":
        if step.day < subscription.started_on:  # an older period than the import before knew
            _day(step.day, "started_on")
            ask_to_confirm(_start_warning(subscription.account, step.day), history.confirm)
            Subscription.objects.filter(pk=subscription.pk).update(started_on=step.day)
            subscription.refresh_from_db()
        reactivate_subscription(
            subscription=subscription, reactivated_on=step.day, mrr=step.mrr, source=source, actor=actor
        )
    elif step.kind == "change":
        change_subscription(
            subscription=subscription,
            occurred_on=step.day,
            mrr=step.mrr,
            source=source,
            actor=actor,
            confirm=history.confirm,
        )
    else:
        cancel_subscription(subscription=subscription, canceled_on=step.day, source=source, actor=actor)


def _write_terms(
    history: SubscriptionHistory, renewal: date | None, *, source: str, actor: User | None
) -> bool:
    """A live subscription's latest terms (plan, seats…) and its renewal: its last period's end."""
    subscription = Subscription.objects.get(external_id=history.external_id)
    if subscription.status == SubscriptionStatus.CANCELED:
        return False
    wanted: dict[str, Any] = {"product": history.product.strip()}
    for field in ("plan", "quantity", "term_months", "auto_renew"):
        if getattr(history, field) is not None:
            wanted[field] = getattr(history, field)
    if renewal is not None:
        wanted["renewal_date"] = renewal
    changes = {field: value for field, value in wanted.items() if getattr(subscription, field) != value}
    if changes:
        change_subscription(subscription=subscription, source=source, actor=actor, **changes)
    return bool(changes)


@transaction.atomic
def record_payment_failed(
    *,
    subscription: Subscription,
    failed_at: datetime | None = None,
    amount: Decimal | None = None,
    note: str = "",
    actor: User | None = None,
) -> Subscription:
    """A payment failed: the subscription is past due, and the account's timeline says so."""
    subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
    if subscription.status in (SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING):
        previous = subscription.status
        subscription.status = SubscriptionStatus.PAST_DUE
        subscription.save(update_fields=["status", "updated_at"])
        _subscription_event(
            "subscription.changed", subscription, actor, changes={"status": [previous, subscription.status]}
        )
    record_on_timeline(
        account=subscription.account,
        kind="payment_failed",
        title=f"Payment failed: {subscription}",
        body=note,
        occurred_at=failed_at,
        actor=actor,
        subject=subscription,
        data={
            "product": str(subscription),
            "amount": str(amount) if amount is not None else "",
            "currency": subscription.currency,
        },
    )
    record_audit(actor=actor, action="payment_failed", instance=subscription)
    return subscription


@transaction.atomic
def record_payment_succeeded(
    *,
    subscription: Subscription,
    paid_at: datetime | None = None,
    amount: Decimal | None = None,
    actor: User | None = None,
) -> Subscription:
    """A payment went through: a past-due subscription is active again; the first one dates revenue."""
    subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
    paid_at = paid_at or timezone.now()
    fields = []
    if subscription.status == SubscriptionStatus.PAST_DUE:
        subscription.status = SubscriptionStatus.ACTIVE
        fields.append("status")
        _subscription_event(
            "subscription.changed",
            subscription,
            actor,
            changes={"status": [SubscriptionStatus.PAST_DUE, SubscriptionStatus.ACTIVE]},
        )
        record_on_timeline(
            account=subscription.account,
            kind="payment_recovered",
            title=f"Payment received: {subscription}",
            occurred_at=paid_at,
            actor=actor,
            subject=subscription,
            data={
                "product": str(subscription),
                "amount": str(amount) if amount is not None else "",
                "currency": subscription.currency,
            },
        )
    if subscription.first_paid_on is None:
        subscription.first_paid_on = timezone.localdate(paid_at)
        fields.append("first_paid_on")
    if fields:
        subscription.save(update_fields=[*fields, "updated_at"])
    return subscription


@transaction.atomic
def save_churn_reason(
    *,
    actor: User | None,
    name: str,
    reason: ChurnReason | None = None,
    description: str = "",
    is_active: bool = True,
    order: int = 0,
) -> ChurnReason:
    """Add a churn reason, or rename, reorder, retire one. Past movements keep theirs either way."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the reason a name.")})
    if len(name) > 100:
        raise ValidationError({"name": _("Use at most 100 characters.")})
    same_name = ChurnReason.objects.filter(name__iexact=name)
    if reason is not None:
        same_name = same_name.exclude(pk=reason.pk)
    if same_name.exists():
        raise ValidationError({"name": _("There is already a reason with this name.")})
    creating = reason is None
    reason = reason or ChurnReason()
    before = {"name": reason.name, "is_active": reason.is_active, "order": reason.order}
    reason.name, reason.description, reason.is_active, reason.order = (
        name,
        description.strip(),
        is_active,
        order,
    )
    reason.save()
    changes = {k: [str(v), str(getattr(reason, k))] for k, v in before.items() if v != getattr(reason, k)}
    record_audit(actor=actor, action="create" if creating else "change", instance=reason, changes=changes)
    return reason


# --- Voiding a mistaken movement -----------------------------------------------------------------

# What the reversal of each kind is (the constraint on kinds holds for it: it swaps before and after).
_REVERSED_KIND = {
    MovementKind.NEW: MovementKind.CHURN,
    MovementKind.REACTIVATION: MovementKind.CHURN,
    MovementKind.EXPANSION: MovementKind.CONTRACTION,
    MovementKind.CONTRACTION: MovementKind.EXPANSION,
    MovementKind.CHURN: MovementKind.REACTIVATION,
}


def _restore_subscription(movement: MrrMovement) -> dict[str, list[str]]:
    """Put the subscription's fields back as they were before the movement's write; returns the diff."""
    subscription = Subscription.objects.select_for_update().get(pk=movement.subscription_id)
    before = dict(movement.subscription_before)
    if not before:
        # Movements recorded before voiding existed kept no snapshot: a change of MRR in the reporting
        # currency can still be put back from its amounts; anything else is changed by hand instead.
        if movement.kind in (MovementKind.EXPANSION, MovementKind.CONTRACTION) and (
            subscription.currency == reporting_currency()
        ):
            before = {"mrr": str(movement.mrr_before)}
        else:
            raise ValidationError(
                {"movement": _("This movement is older than voiding: change the subscription instead.")}
            )
    diff: dict[str, list[str]] = {}
    for name, stored in before.items():
        field = cast(models.Field, Subscription._meta.get_field(name))  # snapshots hold concrete fields only
        value = None if stored is None else field.to_python(stored)
        if getattr(subscription, name) != value:
            diff[name] = [str(getattr(subscription, name)), str(value)]
            setattr(subscription, name, value)
    if diff:
        subscription.save()
    return diff


@transaction.atomic
def void_movement(*, movement: MrrMovement, reason: str, actor: User | None) -> MrrMovement:
    """Void a mistaken MRR movement: a reversing movement is recorded and the original marked voided.

    Nothing is deleted. The subscription goes back to what it was before the mistake; revenue
    metrics, charts, the forecast and health read `MrrMovement.objects.effective()`, which leaves out
    both the voided movement and its reversal, so history reads as if the mistake had not happened.
    Only the latest movement of a subscription can be voided (later ones were built on it: void
    them first). Returns the reversal.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the movement is voided.")})
    if len(reason) > 2000:
        raise ValidationError({"reason": _("Use at most 2000 characters.")})
    _lock_account(movement.account_id)
    movement = MrrMovement.objects.select_for_update().select_related("subscription").get(pk=movement.pk)
    if movement.reverses_id is not None:
        raise ValidationError({"movement": _("This movement reverses a voided one: it cannot be voided.")})
    if movement.voided_at is not None:
        raise ValidationError({"movement": _("This movement is already voided.")})
    later = (
        MrrMovement.objects.effective()
        .filter(subscription_id=movement.subscription_id)
        .exclude(pk=movement.pk)
        .filter(
            Q(occurred_on__gt=movement.occurred_on) | Q(occurred_on=movement.occurred_on, pk__gt=movement.pk)
        )
    )
    if later.exists():
        raise ValidationError(
            {"movement": _("A later change of this subscription was built on it: void that one first.")}
        )
    changes = _restore_subscription(movement)
    now = timezone.now()
    reversal = MrrMovement.objects.create(
        subscription_id=movement.subscription_id,
        account_id=movement.account_id,
        kind=_REVERSED_KIND[MovementKind(movement.kind)],
        occurred_on=movement.occurred_on,
        mrr_before=movement.mrr_after,
        mrr_after=movement.mrr_before,
        delta=movement.mrr_before - movement.mrr_after,
        currency=movement.currency,
        note=reason,
        source=MovementSource.MANUAL,
        actor=actor if actor is not None and actor.pk else None,
        reverses=movement,
    )
    movement.voided_at = now
    movement.voided_by = actor if actor is not None and actor.pk else None
    movement.void_reason = reason
    movement.save(update_fields=["voided_at", "voided_by", "void_reason"])
    subscription = movement.subscription
    record_on_timeline(
        account=subscription.account,
        kind="mrr_voided",
        title=f"Voided: {movement.get_kind_display()} {subscription} {movement.delta:+} {reporting_currency()} MRR",
        body=reason,
        actor=actor,
        subject=movement,
        data={
            "kind": movement.kind,
            "product": str(subscription),
            "delta": str(movement.delta),
            "occurred_on": movement.occurred_on.isoformat(),
            "currency": reporting_currency(),
            "reason": reason,
        },
    )
    record_event(
        kind="mrr.voided",
        account=movement.account_id,
        subject=movement,
        actor=actor,
        payload={
            "movement_id": movement.pk,
            "reversal_id": reversal.pk,
            "subscription_id": movement.subscription_id,
            "kind": movement.kind,
            "occurred_on": movement.occurred_on.isoformat(),
            "delta": str(movement.delta),
            "currency": reporting_currency(),
            "reason": reason,
        },
    )
    record_audit(
        actor=actor,
        action="void",
        instance=movement,
        changes={
            "reason": reason,
            "reversal": str(reversal.pk),
            **{f"subscription.{k}": v for k, v in changes.items()},
        },
    )
    return reversal
