"""Demo step "revenue": a subscription per customer with 18 months of MRR movements that match its fit.

Good fits expand every few months; poor fits contract, and most of them churn, either earlier in the
history (no product use after that) or inside the usage history, after the usage decline the usage step
draws; a few churned customers come back. The churn date is left on the DemoAccount so the usage
step stops the account's events there. Rows are written as revenue.services writes them (movement,
timeline entry, subscription state), straight into the tables so 10,000 accounts take seconds.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from dateutil.relativedelta import relativedelta
from django.contrib.contenttypes.models import ContentType

from touchpoint.accounts.demo import ENTERPRISE, MID_MARKET, SMB
from touchpoint.accounts.models import TimelineEntry
from touchpoint.demo.builders import TIMELINE_COLUMNS, DemoAccount, DemoContext, step, timeline_row
from touchpoint.revenue.models import (
    ChurnReason,
    MovementKind,
    MovementSource,
    MrrMovement,
    Subscription,
    SubscriptionStatus,
)
from touchpoint.usage.demo import FADE_DAYS, HISTORY_DAYS

PRODUCT = "Touchpoint Cloud"
# plan, MRR range (USD), seats range
PLANS = {
    ENTERPRISE: ("Enterprise", 4000, 16000, 60, 400),
    MID_MARKET: ("Business", 900, 4000, 15, 80),
    SMB: ("Starter", 99, 700, 2, 15),
}
USAGE_WINDOW_DAYS = HISTORY_DAYS  # the usage step's history: churn inside it comes after the decline it draws
POOR_FIT, GOOD_FIT = 0.35, 0.6
POOR_FIT_REASONS = {
    "Low adoption": 0.4,
    "Switched to a competitor": 0.2,
    "Budget cut": 0.2,
    "Missing features": 0.1,
    "Champion left": 0.1,
}
SURPRISE_REASONS = {"Company closed or acquired": 0.4, "Champion left": 0.35, "Budget cut": 0.25}
CONTRACTION_REASONS = {"Budget cut": 0.5, "Low adoption": 0.5}
SUBSCRIPTION_COLUMNS = (
    "account_id",
    "external_id",
    "product",
    "plan",
    "quantity",
    "mrr",
    "currency",
    "status",
    "started_on",
    "term_months",
    "renewal_date",
    "auto_renew",
    "canceled_on",
    "deal_opened_on",
    "deal_closed_on",
    "first_paid_on",
    "created_at",
    "updated_at",
)
MOVEMENT_COLUMNS = (
    "subscription_id",
    "account_id",
    "kind",
    "occurred_on",
    "mrr_before",
    "mrr_after",
    "delta",
    "currency",
    "churn_reason_id",
    "note",
    "source",
    "actor_id",
    "created_at",
    "voided_at",
    "voided_by_id",
    "void_reason",
    "reverses_id",
    "subscription_before",
)
CENT = Decimal("0.01")


def _pick(ctx: DemoContext, weights: dict[str, float]) -> str:
    return ctx.rng.choices(list(weights), list(weights.values()))[0]


def _money(value: float) -> Decimal:
    return Decimal(str(value)).quantize(CENT, ROUND_HALF_UP)


def _day_between(ctx: DemoContext, first: date, last: date) -> date:
    return first + timedelta(days=ctx.rng.randint(0, max(0, (last - first).days)))


def _history(ctx: DemoContext, demo_account: DemoAccount, started: date) -> tuple[list[tuple], date | None]:
    """The account's movements as (kind, day, mrr_before, mrr_after, reason) and the day it left, if it did."""
    plan = PLANS[_segment_name(ctx, demo_account)]
    fit, anchor = demo_account.fit, ctx.anchor
    window_start = anchor - timedelta(days=USAGE_WINDOW_DAYS)
    mrr = _money(ctx.rng.uniform(plan[1], plan[2]) * (0.7 + 0.6 * fit))
    movements: list[tuple[MovementKind, date, Decimal, Decimal, str | None]] = [
        (MovementKind.NEW, started, Decimal("0"), mrr, None)
    ]
    churn_on, churn_reason = None, None
    roll = ctx.rng.random()
    if fit < POOR_FIT:
        if roll < 0.35 and started + timedelta(days=120) < window_start - timedelta(days=1):
            churn_on = _day_between(ctx, started + timedelta(days=120), window_start - timedelta(days=1))
        elif roll < 0.8 and started < anchor - timedelta(days=120):
            # Inside the usage history, late enough for the fade before it to be seen there.
            first = max(started + timedelta(days=120), window_start + timedelta(days=FADE_DAYS))
            churn_on = _day_between(ctx, min(first, anchor - timedelta(days=1)), anchor - timedelta(days=1))
        churn_reason = _pick(ctx, POOR_FIT_REASONS)
    elif fit < GOOD_FIT and roll < 0.07 and started < anchor - timedelta(days=120):
        first = max(started + timedelta(days=120), window_start)  # a surprise: no fade before it
        churn_on = _day_between(ctx, min(first, anchor - timedelta(days=1)), anchor - timedelta(days=1))
        churn_reason = _pick(ctx, SURPRISE_REASONS)
    day = started + timedelta(days=ctx.rng.randint(90, 150))
    until = churn_on or anchor
    while day < until:
        chance = ctx.rng.random()
        if fit >= GOOD_FIT and chance < 0.55:
            new = _money(float(mrr) * ctx.rng.uniform(1.1, 1.35))
            movements.append((MovementKind.EXPANSION, day, mrr, new, None))
            mrr = new
        elif fit < 0.45 and chance < 0.3:
            new = _money(float(mrr) * ctx.rng.uniform(0.7, 0.9))
            movements.append((MovementKind.CONTRACTION, day, mrr, new, _pick(ctx, CONTRACTION_REASONS)))
            mrr = new
        elif chance < 0.08:
            new = _money(float(mrr) * ctx.rng.uniform(1.05, 1.15))
            movements.append((MovementKind.EXPANSION, day, mrr, new, None))
            mrr = new
        day += timedelta(days=ctx.rng.randint(90, 150))
    if churn_on is not None and fit < POOR_FIT:
        # Annual contracts mostly end at a renewal: the first anniversary on or after the day drawn,
        # when that is still in the past (a poor fit whose use faded does not renew).
        anniversary = started + relativedelta(years=max(1, relativedelta(churn_on, started).years))
        while anniversary < churn_on:
            anniversary += relativedelta(years=1)
        if anniversary < anchor and ctx.rng.random() < 0.8:
            churn_on = anniversary
    if churn_on is not None:
        movements.append((MovementKind.CHURN, churn_on, mrr, Decimal("0"), churn_reason))
        back = churn_on + timedelta(days=ctx.rng.randint(60, 120))
        if churn_on < window_start and back < window_start and ctx.rng.random() < 0.2:
            mrr = _money(float(mrr) * ctx.rng.uniform(0.6, 0.9))  # a customer who left comes back, smaller
            movements.append((MovementKind.REACTIVATION, back, Decimal("0"), mrr, None))
            churn_on = None
    return movements, churn_on


def _segment_name(ctx: DemoContext, demo_account: DemoAccount) -> str:
    names: dict[int | None, str] = {segment.pk: name for name, segment in ctx.segments.items()}
    return names.get(demo_account.account.segment_id, SMB)


@step("revenue", after=("timeline",))
def revenue(ctx: DemoContext) -> None:
    reasons = {reason.name: reason.pk for reason in ChurnReason.objects.all()}
    subscription_rows, histories = [], []
    for demo_account in ctx.accounts:
        account = demo_account.account
        started = account.created_at.astimezone(ctx.tz).date()
        if started >= ctx.anchor:
            continue
        movements, churn_on = _history(ctx, demo_account, started)
        demo_account.churned_on = churn_on
        plan, _lo, _hi, seat_lo, seat_hi = PLANS[_segment_name(ctx, demo_account)]
        live = churn_on is None
        renewal = started + relativedelta(years=1)
        while renewal <= ctx.anchor:
            renewal += relativedelta(years=1)
        status = SubscriptionStatus.ACTIVE if live else SubscriptionStatus.CANCELED
        if live and ctx.rng.random() < 0.04:
            status = SubscriptionStatus.PAST_DUE
        mrr = movements[-1][3] if live else movements[-2][3] if len(movements) > 1 else movements[0][3]
        seats = ctx.rng.randint(seat_lo, seat_hi)
        created = account.created_at
        subscription_rows.append(
            (
                account.pk,
                f"demo-sub-{account.pk}",
                PRODUCT,
                plan,
                seats,
                mrr,
                "USD",
                status,
                started,
                12,
                renewal if live else None,
                live and ctx.rng.random() < 0.8,
                churn_on,
                started - timedelta(days=ctx.rng.randint(14, 120)),
                started - timedelta(days=ctx.rng.randint(0, 10)),
                started + timedelta(days=ctx.rng.randint(0, 30)),
                created,
                created,
            )
        )
        histories.append((demo_account, movements, status))
    subscription_ids = ctx.insert_rows(Subscription, SUBSCRIPTION_COLUMNS, subscription_rows, return_ids=True)

    movement_rows: list[tuple[Any, ...]] = []
    entries = []
    for subscription_id, (demo_account, movements, _status) in zip(subscription_ids, histories, strict=True):
        for kind, day, before, after, reason in movements:
            moment = ctx.at(day, 12)
            movement_rows.append(
                (
                    subscription_id,
                    demo_account.account.pk,
                    kind,
                    day,
                    before,
                    after,
                    after - before,
                    "USD",
                    reasons.get(reason) if reason else None,
                    "",
                    MovementSource.DEMO,
                    None,
                    moment,
                    None,
                    None,
                    "",
                    None,
                    {},
                )
            )
            entries.append((demo_account.account.pk, kind, day, before, after, reason or ""))
    movement_ids = ctx.insert_rows(MrrMovement, MOVEMENT_COLUMNS, movement_rows, return_ids=True)
    movement_type = ContentType.objects.get_for_model(MrrMovement).pk
    subscription_type = ContentType.objects.get_for_model(Subscription).pk
    rows = [
        timeline_row(
            account_id=account_id,
            kind="mrr_movement",
            occurred_at=ctx.at(day, 12),
            title=f"{MovementKind(kind).label}: {PRODUCT} {after - before:+} USD MRR",
            subject_type_id=movement_type,
            subject_id=movement_id,
            data={
                "kind": kind,
                "product": PRODUCT,
                "delta": str(after - before),
                "mrr_after": str(after),
                "currency": "USD",
                "reason": reason,
            },
        )
        for movement_id, (account_id, kind, day, before, after, reason) in zip(
            movement_ids, entries, strict=True
        )
    ]
    # A payment failed lately for the past-due customers, as record_payment_failed writes it.
    for subscription_id, (demo_account, movements, status) in zip(subscription_ids, histories, strict=True):
        if status == SubscriptionStatus.PAST_DUE:
            failed = ctx.at(ctx.anchor - timedelta(days=ctx.rng.randint(1, 20)), 9)
            rows.append(
                timeline_row(
                    account_id=demo_account.account.pk,
                    kind="payment_failed",
                    occurred_at=failed,
                    title=f"Payment failed: {PRODUCT}",
                    subject_type_id=subscription_type,
                    subject_id=subscription_id,
                    data={"product": PRODUCT, "amount": str(movements[-1][3]), "currency": "USD"},
                )
            )
    ctx.insert_rows(TimelineEntry, TIMELINE_COLUMNS, rows)
