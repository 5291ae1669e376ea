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


# --- Demo step "renewals": the renewal process at every stage ---------------------------------

OPPORTUNITY_COLUMNS = (
    "subscription_id",
    "account_id",
    "renewal_date",
    "stage",
    "forecast_category",
    "expected_arr",
    "outcome_reason",
    "churn_reason_id",
    "owner_id",
    "notes",
    "created_at",
    "updated_at",
    "closed_at",
    "closed_by_id",
)
# Of the live customers whose anniversary fell in the last 60 days, the share whose outcome is still
# open: the renewal date passed with the paperwork unfinished.
OVERDUE_DAYS, OVERDUE_SHARE = 60, 0.35


def _open_stage(ctx: DemoContext, fit: float, days_left: int) -> tuple[str, str]:
    """Stage and forecast category of an open renewal: the nearer the date, the further the talk."""
    roll = ctx.rng.random()
    if days_left > 120:
        return ("not_started", "pipeline") if roll < 0.85 else ("in_discussion", "pipeline")
    if days_left > 60:
        if roll < 0.45:
            return "not_started", "pipeline"
        return "in_discussion", "best_case" if fit >= GOOD_FIT else "pipeline"
    if fit >= GOOD_FIT:
        return ("commit", "commit") if roll < 0.6 else ("in_discussion", "best_case")
    if fit < POOR_FIT:
        return ("in_discussion", "omitted") if roll < 0.3 else ("in_discussion", "pipeline")
    return (
        ("commit", "commit")
        if roll < 0.25
        else ("in_discussion", "best_case")
        if roll < 0.7
        else ("not_started", "pipeline")
    )


@step("renewals", after=("revenue",))
def renewals(ctx: DemoContext) -> None:
    """An opportunity for every live subscription's renewal, a few of them overdue, and the closed
    ones of past renewals (renewed at each anniversary, downgraded where a contraction came, churned
    where the customer left), with the timeline entries the renewal services write."""
    from touchpoint.revenue.models import RenewalOpportunity

    by_account = {demo_account.account.pk: demo_account for demo_account in ctx.accounts}
    subscriptions = list(
        Subscription.objects.filter(account_id__in=list(by_account))
        .order_by("account_id", "id")
        .values(
            "id",
            "account_id",
            "account__owner_id",
            "mrr",
            "status",
            "started_on",
            "renewal_date",
            "canceled_on",
        )
    )
    losses = {
        subscription_id: (day, reason_id)
        for subscription_id, day, reason_id in MrrMovement.objects.filter(kind=MovementKind.CHURN)
        .order_by("occurred_on", "id")
        .values_list("subscription_id", "occurred_on", "churn_reason_id")
    }
    contractions = {
        subscription_id: (day, after, reason_id)
        for subscription_id, day, after, reason_id in MrrMovement.objects.filter(
            kind=MovementKind.CONTRACTION
        )
        .order_by("occurred_on", "id")
        .values_list("subscription_id", "occurred_on", "mrr_after", "churn_reason_id")
    }
    opportunity_type = ContentType.objects.get_for_model(RenewalOpportunity).pk
    reason_names = dict(ChurnReason.objects.values_list("pk", "name"))
    rows: list[tuple] = []
    entries: list[tuple[int, str, date, Decimal, Decimal]] = []  # (row index, what, day, ARR before, after)
    overdue_ids: list[tuple[int, date]] = []
    for sub in subscriptions:
        demo_account = by_account[sub["account_id"]]
        fit, owner = demo_account.fit, sub["account__owner_id"]
        arr = (sub["mrr"] * 12).quantize(CENT)
        created = ctx.at(sub["started_on"], 10)
        if sub["status"] == SubscriptionStatus.CANCELED:
            loss = losses.get(sub["id"])
            if loss is None:
                continue
            day, reason_id = loss
            closed = ctx.at(day, 15)
            rows.append(
                (
                    sub["id"],
                    sub["account_id"],
                    day,
                    "churned",
                    "omitted",
                    Decimal("0"),
                    "The customer did not renew.",
                    reason_id,
                    owner,
                    "",
                    created,
                    closed,
                    closed,
                    owner,
                )
            )
            entries.append((len(rows) - 1, "churned", day, arr, Decimal("0")))
            continue
        renewal = sub["renewal_date"]
        if renewal is None:
            continue
        # Past anniversaries were renewed (downgraded where a contraction came within a month of one).
        anniversary = sub["started_on"] + relativedelta(years=1)
        contraction = contractions.get(sub["id"])
        while anniversary < ctx.anchor and anniversary < renewal:
            closed = ctx.at(anniversary, 16)
            last = anniversary + relativedelta(years=1) >= renewal
            if last and (ctx.anchor - anniversary).days <= OVERDUE_DAYS and ctx.rng.random() < OVERDUE_SHARE:
                # The anniversary passed and nobody recorded the outcome: the renewal is overdue.
                renewal = anniversary
                overdue_ids.append((sub["id"], renewal))
                break
            if contraction is not None and abs((contraction[0] - anniversary).days) <= 31:
                after = (contraction[1] * 12).quantize(CENT)
                rows.append(
                    (
                        sub["id"],
                        sub["account_id"],
                        anniversary,
                        "downgraded",
                        "closed",
                        after,
                        "Renewed on a smaller plan.",
                        contraction[2],
                        owner,
                        "",
                        created,
                        closed,
                        closed,
                        owner,
                    )
                )
                entries.append((len(rows) - 1, "downgraded", anniversary, arr, after))
            else:
                rows.append(
                    (
                        sub["id"],
                        sub["account_id"],
                        anniversary,
                        "renewed",
                        "closed",
                        arr,
                        "",
                        None,
                        owner,
                        "",
                        created,
                        closed,
                        closed,
                        owner,
                    )
                )
                entries.append((len(rows) - 1, "renewed", anniversary, arr, arr))
            anniversary += relativedelta(years=1)
        stage, forecast = _open_stage(ctx, fit, (renewal - ctx.anchor).days)
        expected = (
            arr
            if fit >= POOR_FIT
            else (arr * Decimal(str(round(ctx.rng.uniform(0.5, 0.9), 2)))).quantize(CENT)
        )
        opened = ctx.at(max(sub["started_on"], renewal - relativedelta(years=1)), 10)
        rows.append(
            (
                sub["id"],
                sub["account_id"],
                renewal,
                stage,
                forecast,
                expected,
                "",
                None,
                owner,
                "",
                opened,
                opened,
                None,
                None,
            )
        )
        if stage != "not_started":
            moved = ctx.anchor - timedelta(days=ctx.rng.randint(1, 30))
            entries.append((len(rows) - 1, stage, moved, arr, arr))
    for subscription_id, renewal in overdue_ids:  # the paperwork is late: the date has passed
        Subscription.objects.filter(pk=subscription_id).update(renewal_date=renewal)
    ids = ctx.insert_rows(RenewalOpportunity, OPPORTUNITY_COLUMNS, rows, return_ids=True)
    timeline = []
    for index, what, day, before, after in entries:
        row = rows[index]
        data = {
            "product": f"{PRODUCT} {_plan_of(ctx, row[1], by_account)}".strip(),
            "renewal_date": row[2].isoformat(),
        }
        if what in ("in_discussion", "commit"):
            kind, title = (
                "renewal_stage",
                f"Renewal of {data['product']} on {row[2]}: not started → {what.replace('_', ' ')}",
            )
            data.update({"from": "not_started", "to": what})
        else:
            kind, title = "renewal_outcome", f"Renewal of {data['product']} on {row[2]}: {what}"
            data.update(
                {
                    "outcome": what,
                    "reason": reason_names.get(row[7], ""),
                    "note": row[6],
                    "mrr_before": str((before / 12).quantize(CENT)),
                    "mrr_after": str((after / 12).quantize(CENT)),
                    "currency": "USD",
                    "next_renewal_date": (row[2] + relativedelta(years=1)).isoformat()
                    if what != "churned"
                    else "",
                }
            )
        timeline.append(
            timeline_row(
                account_id=row[1],
                kind=kind,
                occurred_at=ctx.at(day, 16),
                title=title,
                subject_type_id=opportunity_type,
                subject_id=ids[index],
                data=data,
                actor_id=row[8],
            )
        )
    ctx.insert_rows(TimelineEntry, TIMELINE_COLUMNS, timeline)


def _plan_of(ctx: DemoContext, account_id: int, by_account: dict[int, DemoAccount]) -> str:
    return PLANS[_segment_name(ctx, by_account[account_id])][0]
