"""Many new subscriptions at once, for an import's write pass: one INSERT per table for the
subscriptions, their renewal opportunities, MRR movements, timeline entries, audit entries and events.

`create_subscriptions` does for each subscription what `services.sync_subscription` does for one it
has not seen before (create_subscription, and cancel_subscription when it arrives canceled, with the
renewal opportunity that the post_save receiver of renewal_process keeps in step): the same checks in
the same order, the same rows with the same contents. Those services stay the reference for single
writes (pages, the API, Stripe); tests/integrations/test_bulk_import.py imports the same files both
ways and compares everything written. Whether MRR arriving is new, expansion or reactivation (and
leaving churn or contraction) is read from the account's movements as of that day, as the services
read them: the batch's accounts' movements are read once and the batch's own added as it goes.
Call it inside a transaction (the import's); the accounts of the batch are locked for it, as each
revenue write locks its account.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from decimal import Decimal
from functools import lru_cache
from typing import Any

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from touchpoint.accounts.bulk_services import Effects, actor_id_of
from touchpoint.accounts.models import Account
from touchpoint.bulk import any_of, insert_rows
from touchpoint.confirmation import Confirm, ask_to_confirm
from touchpoint.revenue import renewal_process, services
from touchpoint.revenue.models import (
    LIVE_STATUSES,
    ExchangeRate,
    ForecastCategory,
    MovementKind,
    MrrMovement,
    RenewalOpportunity,
    RenewalStage,
    Subscription,
    SubscriptionStatus,
)
from touchpoint.users.models import User


@dataclass
class NewSubscription:
    """sync_subscription's arguments for a subscription seen for the first time (None: not given)."""

    account_id: int
    external_id: str
    product: str
    mrr: Any
    status: str
    started_on: date
    currency: str | None = None
    plan: str | None = None
    quantity: int | None = None
    term_months: int | None = None
    renewal_date: date | None = None
    auto_renew: bool | None = None
    canceled_on: date | None = None
    confirm: Confirm = False


@dataclass
class _Ledger:
    """An account's MRR movements as account_mrr and _kind_of_increase read them."""

    account: Account | None = None  # None: no such account
    moves: list[tuple[date, Decimal]] = field(default_factory=list)
    churns: list[date] = field(default_factory=list)  # effective churn movements

    def mrr_on(self, day: date) -> Decimal:
        return sum((delta for on, delta in self.moves if on <= day), Decimal("0"))

    def increase_kind(self, *, before: Decimal, on: date) -> str:
        if before > 0 or self.mrr_on(on) > 0:
            return MovementKind.EXPANSION
        if any(churned <= on for churned in self.churns):
            return MovementKind.REACTIVATION
        return MovementKind.NEW

    def decrease_kind(self, *, delta: Decimal, on: date) -> str:
        return MovementKind.CHURN if self.mrr_on(on) + delta <= 0 else MovementKind.CONTRACTION

    def add(self, kind: str, on: date, delta: Decimal) -> None:
        self.moves.append((on, delta))
        if kind == MovementKind.CHURN:
            self.churns.append(on)


Outcome = Subscription | ValidationError


LEDGERS_KEPT = 20_000  # accounts whose movements a caller's `ledgers` keeps (~1–2 KB each)

# What a new subscription may start as (the enum's `.values` builds a list on every read).
NEW_STATUSES = frozenset(SubscriptionStatus.values) - {SubscriptionStatus.CANCELED}


def create_subscriptions(
    *,
    subscriptions: Sequence[NewSubscription],
    source: str,
    actor: User | None,
    ledgers: dict[int, Any] | None = None,
) -> list[Outcome]:
    """sync_subscription for each new subscription (see the module's docstring). Returns, in order,
    each subscription or the ValidationError (a NeedsConfirmation for an unconfirmed warning) that kept
    it out. The caller knows none of their external ids exists yet: the check is made here too.

    `ledgers`: a dict the caller keeps for calls inside one transaction (an import's chunks), so each
    account's movements are read once, not once per chunk, and extended as rows are written. The
    accounts stay locked until the transaction ends; a caller that writes an account's movements
    another way drops that account from the dict."""
    at = timezone.now()
    zone = timezone.get_current_timezone()
    today = timezone.localdate(at, zone)
    account_ids = {new.account_id for new in subscriptions}
    if ledgers is None:
        ledgers = {}
    elif len(ledgers) > LEDGERS_KEPT:
        ledgers.clear()  # memory stays bounded on a huge file: what was written is read again as needed
    # An account already in `ledgers` was read, and locked, by an earlier call of the same transaction.
    ledgers.update(_ledgers(account_ids - set(ledgers)))
    accounts = {pk: ledgers[pk].account for pk in account_ids if ledgers[pk].account is not None}
    wanted_ids = [new.external_id for new in subscriptions if new.external_id]
    taken: set[str] = {
        found
        for found in Subscription.objects.filter(any_of("external_id", wanted_ids)).values_list(
            "external_id", flat=True
        )
        if found
    }
    rates: dict[str, Decimal | None] = {}
    outcomes: list[Outcome] = []
    made: list[Subscription] = []
    plans: list[dict[str, Any]] = []  # per subscription made: its movements and closing, to write after
    for new in subscriptions:
        try:
            subscription, plan = _check(new, accounts, ledgers, taken, rates, today=today, at=at, zone=zone)
        except ValidationError as error:
            outcomes.append(error)
            continue
        if subscription.external_id:
            taken.add(subscription.external_id)
        made.append(subscription)
        plans.append(plan)
        outcomes.append(subscription)
    if made:
        _write(made, plans, accounts, source=source, actor=actor, at=at)
    return outcomes


def _ledgers(account_ids: set[int]) -> dict[int, _Ledger]:
    """The accounts (locked until the transaction ends) and their movements."""
    ledgers = {pk: _Ledger() for pk in account_ids}
    if not account_ids:
        return ledgers
    for account in (
        Account.objects.select_for_update()
        .filter(any_of("pk", account_ids))
        .only("pk", "created_at", "owner_id", "name")
    ):
        ledgers[account.pk].account = account
    for account_id, on, delta in MrrMovement.objects.filter(any_of("account_id", account_ids)).values_list(
        "account_id", "occurred_on", "delta"
    ):
        ledgers[account_id].moves.append((on, delta))
    effective: QuerySet[MrrMovement] = MrrMovement.objects.effective()
    for account_id, on in effective.filter(
        any_of("account_id", account_ids), kind=MovementKind.CHURN
    ).values_list("account_id", "occurred_on"):
        ledgers[account_id].churns.append(on)
    return ledgers


def _to_reporting(amount: Decimal, code: str, rates: dict[str, Decimal | None]) -> Decimal:
    """services.to_reporting, reading each currency's rate once per batch."""
    code = code.upper()
    if code == services.reporting_currency():
        return services.to_reporting(amount, code)
    if code not in rates:
        rates[code] = ExchangeRate.objects.filter(currency=code).values_list("rate", flat=True).first()
    rate = rates[code]
    if rate is None:
        return services.to_reporting(amount, code)  # raises its ValidationError
    return (amount * rate).quantize(services.CENT, services.ROUND_HALF_UP)


def _check(
    new: NewSubscription,
    accounts: dict[int, Account],
    ledgers: dict[int, _Ledger],
    taken: set[str],
    rates: dict[str, Decimal | None],
    *,
    today: date,
    at: Any,
    zone: tzinfo,
) -> tuple[Subscription, dict[str, Any]]:
    """create_subscription's checks (and cancel_subscription's), in their order; the subscription as it
    ends up, and what to record for it. Adds its movements to the account's ledger."""
    if new.account_id not in accounts:
        raise ValidationError({"account": _("Name the account of a new subscription.")})
    account = accounts[new.account_id]
    canceled = new.status == SubscriptionStatus.CANCELED
    status = SubscriptionStatus.ACTIVE if canceled else new.status
    if not (new.product or "").strip():
        raise ValidationError({"product": _("Name the product.")})
    if status not in NEW_STATUSES:
        raise ValidationError({"status": _("A new subscription is trialing, active or past due.")})
    term_months = new.term_months if new.term_months is not None else 12
    quantity = new.quantity if new.quantity is not None else 1
    if term_months < 1:
        raise ValidationError({"term_months": _("The term is at least one month.")})
    if quantity < 0:
        raise ValidationError({"quantity": _("Seats cannot be negative.")})
    if new.external_id and new.external_id in taken:
        raise ValidationError({"external_id": _("A subscription with this external ID already exists.")})
    amount = services._money(new.mrr, "mrr")
    code = services._currency(new.currency or services.reporting_currency())
    services._day(new.started_on, "started_on")
    services._day(new.renewal_date, "renewal_date")
    services._renewal_not_before_start(new.renewal_date, new.started_on)
    ask_to_confirm(services._start_warning(account, new.started_on, zone=zone), new.confirm)
    canceled_on = (new.canceled_on or today) if canceled else None
    if canceled_on is not None:
        services._day(canceled_on, "canceled_on")  # before the ledger is added to: a refused row adds nothing
    subscription = Subscription(
        account_id=account.pk,
        external_id=new.external_id or None,
        product=new.product.strip(),
        plan=(new.plan or "").strip(),
        quantity=quantity,
        mrr=amount,
        currency=code,
        status=status,
        started_on=new.started_on,
        term_months=term_months,
        renewal_date=new.renewal_date or _months_after(new.started_on, term_months),
        auto_renew=new.auto_renew if new.auto_renew is not None else True,
        created_at=at,
    )
    subscription.account = account
    ledger = ledgers[account.pk]
    plan: dict[str, Any] = {"movements": [], "opportunity": None, "canceled": False}
    if status in LIVE_STATUSES and subscription.renewal_date is not None:
        plan["opportunity"] = renewal_process.default_expected_arr(subscription)
    reporting = Decimal("0")
    if status in LIVE_STATUSES and amount > 0:
        reporting = _to_reporting(amount, code, rates)
        kind = ledger.increase_kind(before=Decimal("0"), on=new.started_on)
        ledger.add(kind, new.started_on, reporting)
        plan["movements"].append(
            {
                "kind": kind,
                "occurred_on": new.started_on,
                "mrr_before": Decimal("0"),
                "mrr_after": reporting,
                "subscription_before": {
                    "status": SubscriptionStatus.CANCELED,
                    "canceled_on": new.started_on.isoformat(),
                },
            }
        )
    if canceled_on is not None:
        previous = {"status": subscription.status, "canceled_on": None, "auto_renew": subscription.auto_renew}
        subscription.status = SubscriptionStatus.CANCELED
        subscription.canceled_on = canceled_on
        subscription.auto_renew = False
        plan["canceled"] = True
        if reporting > 0:
            kind = ledger.decrease_kind(delta=-reporting, on=canceled_on)
            ledger.add(kind, canceled_on, -reporting)
            plan["movements"].append(
                {
                    "kind": kind,
                    "occurred_on": canceled_on,
                    "mrr_before": reporting,
                    "mrr_after": Decimal("0"),
                    "subscription_before": previous,
                }
            )
    return subscription, plan


def _write(
    made: list[Subscription],
    plans: list[dict[str, Any]],
    accounts: dict[int, Account],
    *,
    source: str,
    actor: User | None,
    at: Any,
) -> None:
    for subscription in made:
        subscription.updated_at = at
    # One INSERT, the ids read back (RETURNING); no post_save is sent: the opportunities are written below.
    columns = [f.attname for f in Subscription._meta.concrete_fields if not f.primary_key]
    ids = insert_rows(
        Subscription, [{name: getattr(s, name) for name in columns} for s in made], returning="id"
    )
    for subscription, pk in zip(made, ids, strict=True):
        subscription.pk = pk
        subscription._state.adding = False
    currency = services.reporting_currency()
    zone = timezone.get_current_timezone()
    labels = {kind.value: str(kind.label) for kind in MovementKind}  # a lazy label looks itself up each time
    effects = Effects(at=at, actor=actor)
    # Renewal opportunities, as renewal_process.sync_opportunity opens them (and closes them on a cancel).
    opened: list[tuple[Subscription, dict[str, Any]]] = []
    plan_arr: dict[int, Decimal] = {}  # the expected ARR it opened with (the event says it)
    for subscription, plan in zip(made, plans, strict=True):
        if plan["opportunity"] is None:
            continue
        plan_arr[subscription.pk] = plan["opportunity"]
        row: dict[str, Any] = {
            "subscription_id": subscription.pk,
            "account_id": subscription.account_id,
            "renewal_date": subscription.renewal_date,
            "stage": RenewalStage.NOT_STARTED,
            "forecast_category": ForecastCategory.PIPELINE,
            "expected_arr": plan["opportunity"],
            "outcome_reason": "",
            "churn_reason_id": None,
            "owner_id": accounts[subscription.account_id].owner_id,
            "notes": "",
            "created_at": at,
            "updated_at": at,
            "closed_at": None,
            "closed_by_id": None,
        }
        if subscription.status == SubscriptionStatus.CANCELED:
            # Opened, then closed by the cancellation in the same write: written as it ends up.
            row |= {
                "stage": RenewalStage.CHURNED,
                "forecast_category": ForecastCategory.OMITTED,
                "outcome_reason": "The subscription was canceled.",
                "expected_arr": Decimal("0"),
                "closed_at": at,
            }
        opened.append((subscription, row))
    opportunity_ids = insert_rows(RenewalOpportunity, [row for _s, row in opened], returning="id")
    opportunity_of = {
        subscription.pk: (pk, row) for (subscription, row), pk in zip(opened, opportunity_ids, strict=True)
    }
    movement_rows = [
        {
            "subscription_id": subscription.pk,
            "account_id": subscription.account_id,
            "kind": movement["kind"],
            "occurred_on": movement["occurred_on"],
            "mrr_before": movement["mrr_before"],
            "mrr_after": movement["mrr_after"],
            "delta": movement["mrr_after"] - movement["mrr_before"],
            "currency": subscription.currency,
            "churn_reason_id": None,
            "note": "",
            "source": source,
            "actor_id": actor_id_of(actor),
            "subscription_before": movement["subscription_before"],
            "created_at": at,
        }
        for subscription, plan in zip(made, plans, strict=True)
        for movement in plan["movements"]
    ]
    movement_ids = iter(insert_rows(MrrMovement, movement_rows, returning="id"))
    rows = iter(movement_rows)
    # The timeline, audit entries and events in the order the one-row services write them, per
    # subscription: renewal opened, its first movement, created; then closed, its last movement, canceled.
    for subscription, plan in zip(made, plans, strict=True):
        opportunity = opportunity_of.get(subscription.pk)
        if opportunity is not None:
            effects.add_event(
                kind="renewal.opened",
                account_id=subscription.account_id,
                subject=(RenewalOpportunity, opportunity[0]),
                actor=None,
                payload=renewal_process.opened_payload(
                    opportunity_id=opportunity[0],
                    subscription=subscription,
                    renewal_date=opportunity[1]["renewal_date"],
                    expected_arr=plan_arr[subscription.pk],
                ),
            )
        movements = [(next(rows), next(movement_ids)) for _movement in plan["movements"]]
        if movements and movements[0][0]["mrr_before"] == 0:
            _movement_effects(
                effects,
                subscription,
                *movements.pop(0),
                currency=currency,
                source=source,
                zone=zone,
                labels=labels,
            )
        effects.add_audit(
            action="create",
            instance=subscription,
            changes={"mrr": str(subscription.mrr), "currency": subscription.currency},
        )
        effects.add_event(
            kind="subscription.created",
            account_id=subscription.account_id,
            subject=subscription,
            payload=services.subscription_payload(
                subscription,
                product=subscription.product,
                plan=subscription.plan,
                mrr=str(subscription.mrr),
                currency=subscription.currency,
                status=SubscriptionStatus.ACTIVE if plan["canceled"] else subscription.status,
                started_on=subscription.started_on.isoformat(),
                source=source,
            ),
        )
        if not plan["canceled"]:
            continue
        if opportunity is not None:
            closed = RenewalOpportunity(pk=opportunity[0], renewal_date=opportunity[1]["renewal_date"])
            closed.subscription = subscription  # its name in the audit log
            effects.add_audit(action="close", instance=closed, changes={"stage": "churned"}, actor=None)
        for row, pk in movements:
            _movement_effects(
                effects, subscription, row, pk, currency=currency, source=source, zone=zone, labels=labels
            )
        effects.add_audit(action="cancel", instance=subscription, changes={"reason": ""})
        effects.add_event(
            kind="subscription.canceled",
            account_id=subscription.account_id,
            subject=subscription,
            payload=services.subscription_payload(
                subscription,
                canceled_on=subscription.canceled_on.isoformat(),  # type: ignore[union-attr]
                churn_reason="",
                source=source,
            ),
        )
    effects.write()


@lru_cache(maxsize=8192)
def _months_after(day: date, months: int) -> date:
    """The day a term of `months` from `day` ends, as create_subscription computes it; pure, so kept
    (a relativedelta costs more than the rest of a row's checks, and an import's rows share few days)."""
    return day + relativedelta(months=months)


@lru_cache(maxsize=4096)
def _noon(day: date, zone: tzinfo) -> datetime:
    """services._at_noon in a named zone (pure, so kept): an import's movements share few days."""
    return services._at_noon(day, zone=zone)


def _movement_effects(
    effects: Effects,
    subscription: Subscription,
    row: dict[str, Any],
    pk: int,
    *,
    currency: str,
    source: str,
    zone: tzinfo,
    labels: dict[str, str],
) -> None:
    """services._record_movement's timeline entry and event for a movement written in bulk."""
    delta = row["delta"]
    noon = _noon(row["occurred_on"], zone)
    effects.add_timeline(
        account_id=subscription.account_id,
        kind="mrr_movement",
        title=services.movement_title(labels[row["kind"]], subscription, delta, currency),
        occurred_at=noon,
        subject=(MrrMovement, pk),
        data=services.movement_timeline_data(
            kind=row["kind"],
            product=str(subscription),
            delta=delta,
            mrr_after=row["mrr_after"],
            currency=currency,
            reason="",
        ),
    )
    effects.add_event(
        kind="mrr.movement",
        account_id=subscription.account_id,
        subject=(MrrMovement, pk),
        occurred_at=noon,
        payload=services.movement_payload(
            movement_id=pk,
            subscription_id=subscription.pk,
            kind=row["kind"],
            occurred_on=row["occurred_on"],
            mrr_before=row["mrr_before"],
            mrr_after=row["mrr_after"],
            currency=currency,
            reason="",
            source=source,
        ),
    )
