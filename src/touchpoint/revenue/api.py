"""REST API for subscriptions and revenue metrics. Handlers parse, call a service or selector, answer."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field

from touchpoint.accounts.models import Account, Segment
from touchpoint.accounts.schemas import NAME_PATTERN, Ref
from touchpoint.api_contract import (
    READ,
    WRITE,
    Count,
    Day,
    Id,
    Page,
    Paging,
    Strict,
    answers,
    caller,
    page_of,
    require_perm,
)
from touchpoint.revenue import forecast, metrics, renewals, selectors, services
from touchpoint.revenue.models import ChurnReason, MrrMovement, Subscription
from touchpoint.users.models import User

router = Router(tags=["revenue"])

StatusValue = Literal["trialing", "active", "past_due", "canceled"]
LiveStatusValue = Literal["trialing", "active", "past_due"]
CENT = Decimal("0.01")
# Years 1900 to 2999, as every date the API takes (touchpoint.api_contract.Day).
MONTH_PATTERN = r"^(19\d\d|2\d\d\d)-(0[1-9]|1[0-2])$"
MONTH = re.compile(MONTH_PATTERN)
CURRENCY_PATTERN = r"^([A-Za-z]{3})?$"
MAX_MRR = Decimal("999999999999.99")  # what the MRR column holds (14 digits, 2 after the point)
# Warnings a write can ask to confirm (touchpoint.confirmation): send `confirm: true` or a list of them.
WarningCode = Literal["start_before_account", "mrr_jump"]
Confirmation = bool | Annotated[list[WarningCode], Field(max_length=10)]
CONFIRM_HELP = (
    "Accept unusual values: true for all, or the warning codes a 409 answer named "
    "(start_before_account: a start before the account was created; mrr_jump: MRR changed over ten times)."
)


class SubscriptionOut(Schema):
    id: int
    account: Ref
    external_id: str | None
    product: str
    plan: str
    quantity: int
    mrr: Decimal
    arr: Decimal
    currency: str
    status: StatusValue
    started_on: date
    term_months: int
    renewal_date: date | None
    auto_renew: bool
    canceled_on: date | None
    deal_opened_on: date | None
    deal_closed_on: date | None
    first_paid_on: date | None


class SubscriptionIn(Strict):
    account: Id
    product: str = Field(min_length=1, max_length=200, pattern=NAME_PATTERN)
    mrr: Decimal = Field(ge=0, le=MAX_MRR, max_digits=14, decimal_places=2, strict=False)
    started_on: Day
    plan: str = Field("", max_length=200)
    quantity: Count = 1
    currency: str = Field(
        "", pattern=CURRENCY_PATTERN, description="ISO 4217; empty: the reporting currency."
    )
    term_months: int = Field(12, ge=1, le=120)
    renewal_date: Day | None = None
    auto_renew: bool = True
    status: LiveStatusValue = "active"
    external_id: str | None = Field(None, max_length=128)
    deal_opened_on: Day | None = None
    deal_closed_on: Day | None = None
    first_paid_on: Day | None = None
    note: str = Field("", max_length=20000)
    confirm: Confirmation = Field(False, description=CONFIRM_HELP)


class SubscriptionPatch(Strict):
    product: str | None = Field(None, min_length=1, max_length=200, pattern=NAME_PATTERN)
    plan: str | None = Field(None, max_length=200)
    quantity: Count | None = None
    mrr: Decimal | None = Field(None, ge=0, le=MAX_MRR, max_digits=14, decimal_places=2, strict=False)
    currency: str | None = Field(None, pattern=CURRENCY_PATTERN)
    term_months: int | None = Field(None, ge=1, le=120)
    renewal_date: Day | None = None
    auto_renew: bool | None = None
    status: LiveStatusValue | None = None
    external_id: str | None = Field(None, max_length=128)
    deal_opened_on: Day | None = None
    deal_closed_on: Day | None = None
    first_paid_on: Day | None = None
    occurred_on: Day | None = None
    churn_reason: Id | None = None
    note: str = Field("", max_length=20000)
    confirm: Confirmation = Field(False, description=CONFIRM_HELP)


class CancelIn(Strict):
    canceled_on: Day | None = None
    churn_reason: Id | None = None
    note: str = Field("", max_length=20000)


class MovementsOut(Schema):
    new: Decimal | None = None
    expansion: Decimal | None = None
    contraction: Decimal | None = None
    churn: Decimal | None = None
    reactivation: Decimal | None = None


class CohortOut(Schema):
    accounts: int
    opening_mrr: Decimal
    closing_mrr: Decimal
    retained_mrr: Decimal
    churned_accounts: int


class PeriodOut(Schema):
    period: str
    start: date
    end: date
    mrr: Decimal
    arr: Decimal
    opening_mrr: Decimal
    customers: int
    movements: dict[str, Decimal]
    grr: float | None
    nrr: float | None
    logo_churn: float | None
    revenue_churn: float | None
    cohort: CohortOut


class ChurnByReasonOut(Schema):
    reason: str | None
    churned_accounts: int
    churned_mrr: Decimal
    contracted_mrr: Decimal


class LifetimeValueOut(Schema):
    value: Decimal | None
    arpa: Decimal | None
    monthly_revenue_churn: float | None


class DurationsOut(Schema):
    count: int
    median_days: float | None
    mean_days: float | None


class RevenueMetricsOut(Schema):
    groups: dict[str, list[PeriodOut]] = Field(
        description='With `group_by`: the periods of each segment or owner (e-mail); "null" for none.'
    )
    currency: str
    period: Literal["month", "quarter"]
    periods: list[PeriodOut]
    churn_by_reason: list[ChurnByReasonOut]
    lifetime_value: LifetimeValueOut
    time_to_close: DurationsOut
    time_to_revenue: DurationsOut


class RenewalOut(Schema):
    subscription: SubscriptionOut
    renewal_date: date | None
    arr: Decimal
    risk: Literal["low", "medium", "high"]
    signs: list[str]
    owner: str | None
    segment: str | None


class RenewalsOut(Schema):
    currency: str
    count: int
    items: list[RenewalOut]


class MonthForecastOut(Schema):
    month: str
    renewals: int
    due_arr: Decimal
    expected_arr: Decimal
    actual_arr: Decimal | None
    error: float | None


class QuarterForecastOut(Schema):
    quarter: str
    due_arr: Decimal
    expected_arr: Decimal
    actual_arr: Decimal | None


class RenewalForecastOut(Schema):
    currency: str
    mean_absolute_percentage_error: float | None
    past: list[MonthForecastOut]
    coming: list[MonthForecastOut]
    quarters: list[QuarterForecastOut]


def _subscription_out(subscription: Subscription) -> dict:
    account = subscription.account
    return {
        "id": subscription.pk,
        "account": {"id": account.pk, "name": account.name},
        "external_id": subscription.external_id,
        "product": subscription.product,
        "plan": subscription.plan,
        "quantity": subscription.quantity,
        "mrr": subscription.mrr,
        "arr": subscription.arr,
        "currency": subscription.currency,
        "status": subscription.status,
        "started_on": subscription.started_on,
        "term_months": subscription.term_months,
        "renewal_date": subscription.renewal_date,
        "auto_renew": subscription.auto_renew,
        "canceled_on": subscription.canceled_on,
        "deal_opened_on": subscription.deal_opened_on,
        "deal_closed_on": subscription.deal_closed_on,
        "first_paid_on": subscription.first_paid_on,
    }


def _churn_reason(pk: int | None) -> ChurnReason | None:
    if pk is None:
        return None
    reason = ChurnReason.objects.filter(pk=pk).first()
    if reason is None:
        raise ValidationError({"churn_reason": _("No such record: %(id)s.") % {"id": pk}})
    return reason


def _load(subscription_id: int) -> Subscription:
    return get_object_or_404(Subscription.objects.select_related("account"), pk=subscription_id)


@router.get(
    "/subscriptions", response=answers({200: Page[SubscriptionOut]}, *READ), summary="List subscriptions"
)
def list_subscriptions(
    request: HttpRequest,
    paging: Query[Paging],
    account: Id | None = None,
    status: StatusValue | None = None,
):
    """Subscriptions, optionally of one account or in one status, as `{"items": [...], "count": N}`."""
    require_perm(request, "revenue.view_subscription")
    found = selectors.subscriptions(reader=request.user, account_id=account, status=status or "")
    return page_of(found, paging, _subscription_out)


@router.get(
    "/subscriptions/{subscription_id}",
    response=answers({200: SubscriptionOut}, *READ, 404),
    summary="Get a subscription",
)
def get_subscription(request: HttpRequest, subscription_id: Id):
    subscription = _load(subscription_id)
    require_perm(request, "revenue.view_subscription", subscription)
    return _subscription_out(subscription)


@router.post(
    "/subscriptions", response=answers({201: SubscriptionOut}, *WRITE, 409), summary="Create a subscription"
)
def create_subscription(request: HttpRequest, body: SubscriptionIn):
    """Add a subscription; its MRR is recorded as new business (or expansion for a paying account)."""
    require_perm(request, "revenue.add_subscription")
    values = body.model_dump()
    account = Account.objects.filter(pk=values.pop("account")).first()
    if account is None:
        raise ValidationError({"account": _("No such record: %(id)s.") % {"id": body.account}})
    require_perm(request, "revenue.add_subscription", account)
    subscription = services.create_subscription(account=account, actor=caller(request), **values)
    return Status(201, _subscription_out(_load(subscription.pk)))


@router.patch(
    "/subscriptions/{subscription_id}",
    response=answers({200: SubscriptionOut}, *WRITE, 404, 409),
    summary="Change a subscription",
)
def change_subscription(request: HttpRequest, subscription_id: Id, body: SubscriptionPatch):
    """Change only the fields sent; an MRR change records an expansion or a contraction (with its reason)."""
    subscription = _load(subscription_id)
    require_perm(request, "revenue.change_subscription", subscription)
    changes = body.model_dump(exclude_unset=True)
    reason = _churn_reason(changes.pop("churn_reason", None))
    occurred_on, note = changes.pop("occurred_on", None), changes.pop("note", "")
    confirm = changes.pop("confirm", False)
    for field in ("product", "plan", "quantity", "mrr", "currency", "term_months", "auto_renew", "status"):
        if field in changes and changes[field] is None:
            raise ValidationError({field: _("This field cannot be null.")})
    services.change_subscription(
        subscription=subscription,
        occurred_on=occurred_on,
        actor=caller(request),
        note=note,
        churn_reason=reason,
        confirm=confirm,
        **changes,
    )
    return _subscription_out(_load(subscription_id))


@router.post(
    "/subscriptions/{subscription_id}/cancel",
    response=answers({200: SubscriptionOut}, *WRITE, 404),
    summary="Cancel a subscription",
)
def cancel_subscription(request: HttpRequest, subscription_id: Id, body: CancelIn):
    """End a subscription: churn if it was the account's last, contraction otherwise."""
    subscription = _load(subscription_id)
    require_perm(request, "revenue.change_subscription", subscription)
    services.cancel_subscription(
        subscription=subscription,
        canceled_on=body.canceled_on or timezone.localdate(),
        churn_reason=_churn_reason(body.churn_reason),
        note=body.note,
        actor=caller(request),
    )
    return _subscription_out(_load(subscription_id))


# --- Voiding a mistaken movement ---------------------------------------------------------------


class VoidIn(Strict):
    reason: str = Field(min_length=1, max_length=2000, description="Why the movement was a mistake.")


class MovementOut(Schema):
    id: int
    subscription: int
    account: int
    kind: Literal["new", "expansion", "contraction", "churn", "reactivation"]
    occurred_on: date
    mrr_before: Decimal
    mrr_after: Decimal
    delta: Decimal
    currency: str
    voided_at: datetime | None
    void_reason: str
    reverses: int | None


class VoidOut(Schema):
    voided: MovementOut
    reversal: MovementOut


def _movement_out(movement: MrrMovement) -> dict:
    return {
        "id": movement.pk,
        "subscription": movement.subscription_id,
        "account": movement.account_id,
        "kind": movement.kind,
        "occurred_on": movement.occurred_on,
        "mrr_before": movement.mrr_before,
        "mrr_after": movement.mrr_after,
        "delta": movement.delta,
        "currency": services.reporting_currency(),
        "voided_at": movement.voided_at,
        "void_reason": movement.void_reason,
        "reverses": movement.reverses_id,
    }


@router.get(
    "/subscriptions/{subscription_id}/movements",
    response=answers({200: Page[MovementOut]}, *READ, 404),
    summary="A subscription's MRR movements",
)
def list_movements(request: HttpRequest, subscription_id: Id, paging: Query[Paging]):
    """Every MRR movement of the subscription, oldest first, voided ones and their reversals included
    (`voided_at`, `reverses`): the ids to void."""
    subscription = _load(subscription_id)
    require_perm(request, "revenue.view_mrrmovement", subscription)
    return page_of(subscription.movements.order_by("occurred_on", "id"), paging, _movement_out)


@router.post(
    "/mrr-movements/{movement_id}/void",
    response=answers({200: VoidOut}, *WRITE, 404),
    summary="Void a mistaken MRR movement",
)
def void_movement(request: HttpRequest, movement_id: Id, body: VoidIn):
    """Reverse a mistaken movement with an audited reversing movement (nothing is deleted); metrics then
    leave out both, as if the mistake had not happened. Only a subscription's latest movement can be voided."""
    movement = get_object_or_404(MrrMovement, pk=movement_id)
    require_perm(request, "revenue.change_mrrmovement", movement)
    reversal = services.void_movement(movement=movement, reason=body.reason, actor=caller(request))
    movement.refresh_from_db()
    return {"voided": _movement_out(movement), "reversal": _movement_out(reversal)}


# --- Metrics ----------------------------------------------------------------------------------


def _month(value: str, field: str, *, end: bool) -> date | None:
    if not value:
        return None
    match = MONTH.match(value)
    if not match:
        raise ValidationError({field: _("Give a month as YYYY-MM, e.g. 2026-03.")})
    first = date(int(match[1]), int(match[2]), 1)
    return metrics.periods(first, first)[0].end if end else first


def _cents(amount: Decimal | None) -> Decimal | None:
    # Money goes out as a string with two decimals, the same on SQLite and PostgreSQL.
    return None if amount is None else Decimal(amount).quantize(CENT)


def period_out(result: metrics.PeriodMetrics) -> dict:
    return {
        "period": result.period.label,
        "start": result.period.start,
        "end": result.period.end,
        "mrr": _cents(result.closing_mrr),
        "arr": _cents(result.closing_arr),
        "opening_mrr": _cents(result.opening_mrr),
        "customers": result.customers,
        "movements": {kind: _cents(v) for kind, v in result.movements.items()},
        "grr": result.grr,
        "nrr": result.nrr,
        "logo_churn": result.logo_churn,
        "revenue_churn": result.revenue_churn,
        "cohort": {
            "accounts": result.cohort_accounts,
            "opening_mrr": _cents(result.cohort_opening_mrr),
            "closing_mrr": _cents(result.cohort_closing_mrr),
            "retained_mrr": _cents(result.retained_mrr),
            "churned_accounts": result.churned_accounts,
        },
    }


def _durations_out(found: metrics.Durations) -> dict:
    return {"count": found.count, "median_days": found.median_days, "mean_days": found.mean_days}


@router.get("/metrics/revenue", response=answers({200: RevenueMetricsOut}, *READ), summary="Revenue metrics")
def revenue_metrics(
    request: HttpRequest,
    from_: str = Query(
        "", alias="from", pattern=MONTH_PATTERN, description="First month, YYYY-MM (default: 11 months ago)."
    ),
    to: str = Query("", pattern=MONTH_PATTERN, description="Last month, YYYY-MM (default: this month)."),
    period: Literal["month", "quarter"] = "month",
    segment: Id | None = None,
    owner: Id | None = None,
    group_by: Literal["segment", "owner"] | None = None,
):
    """MRR, ARR, GRR, NRR, logo and revenue churn and movements by kind per month or quarter, with lifetime
    value and time to close / to revenue. Definitions: docs/metrics.md. Amounts in the reporting currency.
    With `group_by`, the same periods for each segment (or owner) too, under "groups"."""
    require_perm(request, "revenue.view_mrrmovement")
    default_first, default_last = selectors.default_range()
    first = _month(from_, "from", end=False) or default_first
    last = _month(to, "to", end=True) or default_last
    if first > last:
        raise ValidationError({"from": _("The start must not be after the end.")})
    if (last.year - first.year) * 12 + last.month - first.month >= 120:
        raise ValidationError({"from": _("Ask for at most ten years at a time.")})
    if segment is not None and not Segment.objects.filter(pk=segment).exists():
        raise ValidationError({"segment": _("No such record: %(id)s.") % {"id": segment}})
    if owner is not None and not User.objects.filter(pk=owner).exists():
        raise ValidationError({"owner": _("No such record: %(id)s.") % {"id": owner}})
    filters = selectors.RevenueFilter(segment_id=segment, owner_id=owner, reader=request.user)
    report = selectors.revenue_report(filters, first=first, last=last, unit=period)
    groups = {}
    if group_by:
        split = metrics.revenue_by_group(
            selectors.movements(filters, until=last),
            selectors.account_groups(filters, group_by),
            metrics.periods(first, last, period),
        )
        # A JSON key cannot be null: accounts without a segment (owner) are under "null", as always.
        groups = {str(name or None): [period_out(p) for p in found] for name, found in split.items()}
    return {
        "groups": groups,
        "currency": services.reporting_currency(),
        "period": period,
        "periods": [period_out(p) for p in report.periods],
        "churn_by_reason": [
            {
                "reason": loss.reason or None,
                "churned_accounts": loss.churned_accounts,
                "churned_mrr": _cents(loss.churned_mrr),
                "contracted_mrr": _cents(loss.contracted_mrr),
            }
            for loss in report.losses
        ],
        "lifetime_value": {
            "value": report.lifetime.value,
            "arpa": report.lifetime.arpa,
            "monthly_revenue_churn": report.lifetime.monthly_revenue_churn,
        },
        "time_to_close": _durations_out(report.time_to_close),
        "time_to_revenue": _durations_out(report.time_to_revenue),
    }


# --- Renewals ---------------------------------------------------------------------------------


@router.get("/renewals", response=answers({200: RenewalsOut}, *READ), summary="Renewals due")
def list_renewals(
    request: HttpRequest,
    days: int = Query(120, ge=1, le=730),
    owner: Id | None = None,
    segment: Id | None = None,
):
    """Live subscriptions renewing in the next `days` days, soonest first, with ARR and risk (docs/metrics.md)."""
    require_perm(request, "revenue.view_subscription")
    today = timezone.localdate()
    due = renewals.due(
        selectors.RevenueFilter(segment_id=segment, owner_id=owner, reader=request.user),
        start=today,
        end=today + timedelta(days=days),
        today=today,
    )
    return {
        "currency": services.reporting_currency(),
        "count": len(due),
        "items": [
            {
                "subscription": _subscription_out(r.subscription),
                "renewal_date": r.subscription.renewal_date,
                "arr": _cents(r.arr),
                "risk": r.risk,
                "signs": r.signs,
                "owner": r.subscription.account.owner.email if r.subscription.account.owner else None,
                "segment": r.subscription.account.segment.name if r.subscription.account.segment else None,
            }
            for r in due
        ],
    }


def _month_out(month: forecast.MonthForecast) -> dict:
    return {
        "month": f"{month.month:%Y-%m}",
        "renewals": month.renewals,
        "due_arr": _cents(month.due_arr),
        "expected_arr": _cents(month.expected_arr),
        "actual_arr": _cents(month.actual_arr),
        "error": month.error,
    }


@router.get(
    "/renewals/forecast", response=answers({200: RenewalForecastOut}, *READ), summary="Renewal forecast"
)
def renewal_forecast(request: HttpRequest, owner: Id | None = None, segment: Id | None = None):
    """Expected renewing ARR for the next 12 months, and the back-test of the past 12 beside what renewed."""
    require_perm(request, "revenue.view_subscription")
    outlook = forecast.renewal_forecast(
        selectors.RevenueFilter(segment_id=segment, owner_id=owner, reader=request.user)
    )
    return {
        "currency": services.reporting_currency(),
        "mean_absolute_percentage_error": outlook.mape,
        "past": [_month_out(m) for m in outlook.past],
        "coming": [_month_out(m) for m in outlook.coming],
        "quarters": [
            {"quarter": q, "due_arr": _cents(d), "expected_arr": _cents(e), "actual_arr": _cents(a)}
            for q, d, e, a in outlook.quarters(outlook.past + outlook.coming)
        ],
    }


# Renewal opportunities add their operations to this router.
from touchpoint.revenue import renewal_api  # noqa: E402, F401
