"""Stripe webhooks: verify the signature as Stripe signs, then apply each event once through the services.

Signature (https://docs.stripe.com/webhooks#verify-manually): the `Stripe-Signature` header holds
`t=<unix time>` and one or more `v1=<hex>`; each v1 is HMAC-SHA256 of "<t>.<raw body>" under an endpoint
secret. Any v1 matching any configured secret passes (several secrets let one rotate them), and `t`
must be within the tolerance, so an intercepted request cannot be replayed later.

Events change state through revenue.services and accounts.services, so the timeline, the audit log and
the MRR movements are kept exactly as for a change made by hand. Each event is recorded (StripeEvent) in
the same transaction: a retry of the same event changes nothing, and an event older than one already
applied to the same object is recorded as stale and skipped, since Stripe may deliver out of order and
every subscription event carries the whole object as it was then.

A signed event whose values cannot be real (an amount below zero or of a trillion minor units or more,
seats past what a column holds, a date before 1970 or after 2999) is recorded as failed, with the
field and the reason, and answered 200: no retry can make it right, and a 4xx or 5xx would have Stripe
retry it for three days. Nothing else of it is applied.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from touchpoint.accounts import services as account_services
from touchpoint.accounts.models import Account
from touchpoint.integrations.models import StripeEvent, StripeObjectState, StripeOutcome
from touchpoint.revenue import services as revenue
from touchpoint.revenue.models import ChurnReason, MovementSource, Subscription, SubscriptionStatus

logger = logging.getLogger(__name__)

TOLERANCE_SECONDS = 300
# Bounds of what a real Stripe object can say. Stripe caps a price at 8 digits in most currencies; a
# trillion minor units is nonsense in every one, and the MRR column holds 12 digits before the point.
MAX_AMOUNT = 10**12 - 1
MAX_MRR = Decimal("999999999999.99")
MAX_QUANTITY = 2**31 - 1  # the seats column (PostgreSQL integer)
LAST_TIMESTAMP = int(datetime(2999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp())
# Currencies Stripe counts in whole units (no cents): https://docs.stripe.com/currencies#zero-decimal
ZERO_DECIMAL = {
    "bif",
    "clp",
    "djf",
    "gnf",
    "jpy",
    "kmf",
    "krw",
    "mga",
    "pyg",
    "rwf",
    "ugx",
    "vnd",
    "vuv",
    "xaf",
    "xof",
    "xpf",
}
# Stripe's cancellation feedback → the churn reasons Touchpoint starts with (admins may rename them).
FEEDBACK_REASONS = {
    "too_expensive": "Budget cut",
    "switched_service": "Switched to a competitor",
    "unused": "Low adoption",
    "missing_features": "Missing features",
    "customer_service": "Poor support experience",
    "too_complex": "Low adoption",
    "low_quality": "Missing features",
    "other": "Other",
}
LIVE = {
    "active": SubscriptionStatus.ACTIVE,
    "past_due": SubscriptionStatus.PAST_DUE,
    "trialing": SubscriptionStatus.TRIALING,
}
ENDED = {"canceled", "unpaid", "incomplete_expired"}


class SignatureError(Exception):
    """The request is not a Stripe event signed with one of our secrets (answered 400)."""


class ImpossibleValue(Exception):
    """A signed event with a value no real Stripe object has: recorded as failed, not applied."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _amount(value: Any, field: str) -> int | Decimal | None:
    """An amount in minor units, as Stripe sends it (an integer, or a decimal string); None when absent."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ImpossibleValue(field, _("Not an amount."))
    try:
        amount = Decimal(str(value)) if not isinstance(value, int) else value
    except ArithmeticError:
        raise ImpossibleValue(field, _("Not an amount.")) from None
    if isinstance(amount, Decimal) and not amount.is_finite():
        raise ImpossibleValue(field, _("Not an amount."))
    if not 0 <= amount <= MAX_AMOUNT:
        raise ImpossibleValue(
            field,
            _("The amount %(amount)s is not between 0 and %(max)s.") % {"amount": value, "max": MAX_AMOUNT},
        )
    return amount


def _count(value: Any, field: str, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_QUANTITY:
        raise ImpossibleValue(field, _("Not a number of seats: %(value)s.") % {"value": value})
    return value


def _timestamp(value: Any, field: str) -> datetime | None:
    """A Unix time, as Stripe sends them; None when absent (0 or null)."""
    if value is None or value == 0:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= LAST_TIMESTAMP:
        raise ImpossibleValue(field, _("Not a time between 1970 and 2999: %(value)s.") % {"value": value})
    return datetime.fromtimestamp(value, UTC)


def secrets() -> list[str]:
    return [s.strip() for s in (getattr(settings, "STRIPE_WEBHOOK_SECRET", "") or "").split(",") if s.strip()]


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    """The v1 signature Stripe would send for this payload (used by verify, and by tests to send events)."""
    signed = f"{timestamp}.".encode() + payload
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def verify(
    payload: bytes,
    header: str | None,
    *,
    endpoint_secrets: list[str],
    tolerance: int = TOLERANCE_SECONDS,
    now: float | None = None,
) -> None:
    if not endpoint_secrets:
        raise SignatureError(_("No Stripe webhook secret is configured (STRIPE_WEBHOOK_SECRET)."))
    if not header:
        raise SignatureError(_("The Stripe-Signature header is missing."))
    timestamp, signatures = None, []
    for part in header.split(","):
        key, _sep, value = part.strip().partition("=")
        if key == "t":
            timestamp = value
        elif key == "v1":
            signatures.append(value)
    if timestamp is None or not timestamp.isdecimal():
        raise SignatureError(_("The Stripe-Signature header has no valid timestamp."))
    if not signatures:
        raise SignatureError(_("The Stripe-Signature header has no v1 signature."))
    expected = [sign(payload, secret, int(timestamp)) for secret in endpoint_secrets]
    if not any(hmac.compare_digest(e, s) for e in expected for s in signatures):
        raise SignatureError(_("No signature matches the payload with the configured secret."))
    if tolerance and int(timestamp) < (now if now is not None else time.time()) - tolerance:
        raise SignatureError(
            _("The signature's timestamp is too old (more than %(seconds)s seconds).")
            % {"seconds": tolerance}
        )


# --- Reading Stripe objects -------------------------------------------------------------------


def to_major(amount: int | Decimal | None, currency: str) -> Decimal:
    """Stripe amounts are integers in the currency's smallest unit: cents, or yen for JPY."""
    if amount is None:
        return Decimal("0")
    return Decimal(amount) if currency.lower() in ZERO_DECIMAL else Decimal(amount) / 100


def monthly(amount: Decimal, interval: str, count: int) -> Decimal:
    """A recurring price normalised to one month."""
    count = max(1, count or 1)
    per_month = {
        "month": Decimal(1),
        "year": Decimal(1) / 12,
        "week": Decimal(52) / 12,
        "day": Decimal(365) / 12,
    }
    return amount * per_month.get(interval, Decimal(1)) / count


def _day(timestamp: Any, field: str = "data.object") -> date | None:
    moment = _timestamp(timestamp, field)
    return moment.date() if moment else None


@dataclass
class SubscriptionState:
    external_id: str
    customer: str
    status: str
    product: str
    plan: str
    quantity: int
    mrr: Decimal
    currency: str
    started_on: date
    renewal_date: date | None
    auto_renew: bool
    canceled_on: date | None
    feedback: str


def subscription_state(obj: dict[str, Any]) -> SubscriptionState:
    """What a Stripe subscription object says, in Touchpoint's terms. Discounts are not applied."""
    items = (obj.get("items") or {}).get("data") or []
    if not items:
        raise ValidationError({"data.object.items": _("The subscription has no items.")})
    mrr, quantity, currency, products, plans, period_end = (
        Decimal("0"),
        0,
        "",
        [],
        [],
        obj.get("current_period_end"),
    )
    for item in items:
        price = item.get("price") or item.get("plan") or {}
        recurring = price.get("recurring") or {
            "interval": price.get("interval"),
            "interval_count": price.get("interval_count"),
        }
        currency = (price.get("currency") or obj.get("currency") or "usd").lower()
        amount = _amount(price.get("unit_amount"), "data.object.items.price.unit_amount")
        if amount is None:
            amount = _amount(price.get("unit_amount_decimal"), "data.object.items.price.unit_amount_decimal")
        if amount is None:
            amount = _amount(price.get("amount"), "data.object.items.price.amount")
        item_quantity = _count(item.get("quantity"), "data.object.items.quantity", 1) or 1
        interval_count = recurring.get("interval_count") or 1
        if isinstance(interval_count, bool) or not isinstance(interval_count, int) or interval_count < 1:
            raise ImpossibleValue(
                "data.object.items.price.recurring.interval_count", _("Not a whole number.")
            )
        mrr += monthly(
            to_major(amount, currency) * item_quantity,
            recurring.get("interval") or "month",
            interval_count,
        )
        quantity += item_quantity
        product = price.get("product")
        products.append(
            product.get("name") or product.get("id") if isinstance(product, dict) else (product or "")
        )
        plans.append(price.get("nickname") or price.get("lookup_key") or price.get("id") or "")
        period_end = period_end or item.get("current_period_end")  # newer API versions keep it on the item
    details = obj.get("cancellation_details") or {}
    if mrr > MAX_MRR or quantity > MAX_QUANTITY:
        raise ImpossibleValue("data.object.items", _("The MRR or the seats are more than can be stored."))
    return SubscriptionState(
        external_id=obj["id"],
        customer=_customer_id(obj.get("customer")),
        status=obj.get("status") or "",
        product=", ".join(p for p in products if p)[:200] or "Stripe",
        plan=", ".join(p for p in plans if p)[:200],
        quantity=quantity,
        mrr=mrr.quantize(Decimal("0.01")),
        currency=currency.upper(),
        started_on=_day(obj.get("start_date") or obj.get("created"), "data.object.start_date")
        or date.today(),
        renewal_date=_day(period_end, "data.object.current_period_end"),
        auto_renew=not obj.get("cancel_at_period_end", False),
        canceled_on=_day(obj.get("ended_at") or obj.get("canceled_at"), "data.object.ended_at"),
        feedback=details.get("feedback") or "",
    )


def _customer_id(value: Any) -> str:
    return value.get("id", "") if isinstance(value, dict) else (value or "")


# --- Applying events --------------------------------------------------------------------------


def _account_for_customer(
    customer_id: str, *, metadata: dict | None = None, name: str = "", email: str = ""
) -> Account:
    """The customer's account: named in its metadata, or with the customer id as external id, or a new one."""
    pinned = (metadata or {}).get("touchpoint_account_id")
    if pinned:
        account = Account.objects.filter(pk=int(pinned) if str(pinned).isdecimal() else 0).first()
        if account is None:
            raise ValidationError(
                {
                    "data.object.metadata.touchpoint_account_id": _("No account with id %(id)s.")
                    % {"id": pinned}
                }
            )
        if not account.external_id:
            account_services.update_account(account=account, actor=None, external_id=customer_id)
        return account
    account = Account.objects.filter(external_id=customer_id).first()
    if account is None:
        domain = email.rpartition("@")[2] if "@" in email else ""
        account = account_services.create_account(
            name=name or email or customer_id, actor=None, external_id=customer_id, domain=domain
        )
    return account


def _churn_reason(feedback: str) -> ChurnReason | None:
    name = FEEDBACK_REASONS.get(feedback)
    return ChurnReason.objects.filter(name=name).first() if name else None


def _apply_customer(obj: dict) -> str:
    account = _account_for_customer(
        obj["id"], metadata=obj.get("metadata"), name=obj.get("name") or "", email=obj.get("email") or ""
    )
    return _("Customer %(customer)s is account “%(account)s”.") % {
        "customer": obj["id"],
        "account": account.name,
    }


def _apply_subscription(obj: dict, *, deleted: bool, occurred_on: date) -> str:
    state = subscription_state(obj)
    ended = deleted or state.status in ENDED
    subscription = Subscription.objects.filter(external_id=state.external_id).first()
    if not ended and state.status not in LIVE:
        if subscription is None:
            return _("Subscription %(id)s is %(status)s; it counts once it is paid for.") % {
                "id": state.external_id,
                "status": state.status,
            }
        return _("Subscription %(id)s is %(status)s; left as it was.") % {
            "id": state.external_id,
            "status": state.status,
        }
    # The same service as a CSV import of subscriptions, so the two cannot disagree.
    _subscription, outcome = revenue.sync_subscription(
        account=_account_for_customer(state.customer) if subscription is None else None,
        external_id=state.external_id,
        product=state.product,
        plan=state.plan,
        quantity=state.quantity,
        mrr=state.mrr,
        currency=state.currency,
        status=SubscriptionStatus.CANCELED if ended else LIVE[state.status],
        started_on=state.started_on,
        renewal_date=state.renewal_date,
        auto_renew=state.auto_renew,
        canceled_on=state.canceled_on,
        churn_reason=_churn_reason(state.feedback) if ended else None,
        occurred_on=occurred_on,
        source=MovementSource.STRIPE,
        # Billing data is what the customer pays: a big change or an old start is real, not a typo.
        confirm=True,
    )
    if ended:
        return _("Subscription %(id)s canceled.") % {"id": state.external_id}
    if outcome == "created":
        return _("Subscription %(id)s added at %(mrr)s %(currency)s a month.") % {
            "id": state.external_id,
            "mrr": state.mrr,
            "currency": state.currency,
        }
    return _("Subscription %(id)s now %(mrr)s %(currency)s a month, %(seats)s seats.") % {
        "id": state.external_id,
        "mrr": state.mrr,
        "currency": state.currency,
        "seats": state.quantity,
    }


def _invoice_subscription(obj: dict) -> str:
    # Older API versions name the subscription on the invoice; newer ones under parent.subscription_details.
    found = obj.get("subscription") or ((obj.get("parent") or {}).get("subscription_details") or {}).get(
        "subscription"
    )
    return _customer_id(found)


def _apply_invoice(obj: dict, *, paid: bool, when: datetime) -> str:
    subscription_id = _invoice_subscription(obj)
    subscription = (
        Subscription.objects.filter(external_id=subscription_id).first() if subscription_id else None
    )
    if subscription is None:
        return _("Invoice %(id)s is for no subscription Touchpoint knows; nothing to record.") % {
            "id": obj.get("id")
        }
    currency = obj.get("currency") or subscription.currency
    if not isinstance(currency, str):
        raise ImpossibleValue("data.object.currency", _("Not a currency."))
    if paid:
        paid_at = _timestamp(
            (obj.get("status_transitions") or {}).get("paid_at"), "data.object.status_transitions.paid_at"
        )
        revenue.record_payment_succeeded(
            subscription=subscription,
            amount=to_major(_amount(obj.get("amount_paid"), "data.object.amount_paid"), currency),
            paid_at=paid_at or when,
        )
        return _("Payment received for %(id)s.") % {"id": subscription_id}
    revenue.record_payment_failed(
        subscription=subscription,
        failed_at=when,
        amount=to_major(_amount(obj.get("amount_due"), "data.object.amount_due"), currency),
        note=_("Stripe invoice %(id)s, attempt %(attempt)s.")
        % {"id": obj.get("id"), "attempt": obj.get("attempt_count") or 1},
    )
    return _("Payment failed for %(id)s: the account is past due.") % {"id": subscription_id}


def handle(event: dict[str, Any]) -> tuple[StripeEvent, bool]:
    """Apply one verified event, once. Returns the recorded event and whether it was new."""
    try:
        event_id, event_type, created = event["id"], event["type"], int(event["created"])
        obj = event["data"]["object"]
        if not isinstance(obj, dict) or not isinstance(event_id, str) or not isinstance(event_type, str):
            raise TypeError(_("the id, type and data.object are not what Stripe sends"))
        if not 0 < len(event_id) <= 255 or len(event_type) > 100 or "\x00" in event_id + event_type:
            raise ValueError(_("the id or type is longer than Stripe's"))
    except (KeyError, TypeError, ValueError, OverflowError) as error:
        raise ValidationError({"": _("Not a Stripe event: %(error)s.") % {"error": error}}) from None
    object_id = str(obj.get("id") or "")[:255]
    existing = StripeEvent.objects.filter(event_id=event_id).first()
    if existing is not None:
        return existing, False
    impossible: ImpossibleValue | None = None
    try:
        when = _timestamp(created, "created") or datetime.fromtimestamp(0, UTC)
    except ImpossibleValue as error:
        when, impossible = timezone.now(), error
    try:
        with transaction.atomic():
            if impossible is None:
                try:
                    with transaction.atomic():  # a savepoint: whatever the event changed before is undone
                        outcome, message = _dispatch(event_type, obj, when, object_id)
                except ImpossibleValue as error:
                    impossible = error
            if impossible is not None:
                logger.warning("Stripe event %s not applied: %s", event_id, impossible)
                outcome, message = StripeOutcome.FAILED, str(impossible)
            recorded = StripeEvent.objects.create(
                event_id=event_id,
                type=event_type,
                created=when,
                livemode=bool(event.get("livemode")),
                object_id=object_id,
                outcome=outcome,
                message=message,
            )
    except IntegrityError:
        # The same event arrived twice at once: the other request recorded (and applied) it.
        existing = StripeEvent.objects.filter(event_id=event_id).first()
        if existing is None:
            raise
        return existing, False
    return recorded, True


HANDLED = {
    "customer.created",
    "customer.updated",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "customer.subscription.resumed",
    "customer.subscription.paused",
    "invoice.paid",
    "invoice.payment_succeeded",
    "invoice.payment_failed",
}


def _dispatch(event_type: str, obj: dict, when: datetime, object_id: str) -> tuple[str, str]:
    if event_type not in HANDLED:
        return StripeOutcome.IGNORED, _("Event type not used by Touchpoint.")
    if event_type.startswith("customer.subscription."):
        # Only subscription events carry state that a late, older event could undo.
        state, created = StripeObjectState.objects.select_for_update().get_or_create(
            object_id=object_id, defaults={"last_event_created": when}
        )
        if not created:
            if state.last_event_created > when:
                return StripeOutcome.STALE, _("A newer event for this subscription was already applied.")
            state.last_event_created = when
            state.save(update_fields=["last_event_created"])
        return StripeOutcome.PROCESSED, _apply_subscription(
            obj, deleted=event_type == "customer.subscription.deleted", occurred_on=when.date()
        )
    if event_type.startswith("customer."):
        return StripeOutcome.PROCESSED, _apply_customer(obj)
    return StripeOutcome.PROCESSED, _apply_invoice(
        obj, paid=event_type != "invoice.payment_failed", when=when
    )
