"""A second company, made unlike the demo, to judge health on data the demo's generator did not shape.

The demo company's churners fade for 45 days before they leave, its contracts are annual and its
accounts have many seats. The company here behaves like a self-serve product (like the public churn
simulator issue 19 was tried on):

- one person per account (one contact, one product user, one seat), monthly plans;
- product use is flat until the day the account leaves: no decline warns of it, so usage *trend*
  carries no signal;
- each account has a latent engagement level that sets both how much it uses the product (events a
  day, how many of the key features) and how likely it is to leave, so usage *level* carries signal;
- churn falls with tenure: most of it in the first months, at a billing date;
- accounts start on different days over the history ("customer since", `created_at`, is backdated),
  and some were customers before the history starts (their usage is kept from 90 days before it).

`generate_simulated_company(seed, accounts=…, days=…)` writes it into the current (empty) database
with the demo's bulk path (`DemoContext.insert_rows`): accounts, contacts, product users, key
features, a subscription with its MRR movements (new, churn) and their timeline entries, daily
account and event rollups. The same seed and anchor give the same company, row for row.

    .venv/bin/python bench/companies.py [--accounts 1500] [--days 270] [--seed 19]

prints the shape of one (churn by month of tenure, events a day by engagement) on a throw-away database.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np

# Before the history starts, usage is kept this many days back, so the 90-day measures of the
# earliest back-test days see full windows for the customers who were already there.
USAGE_LEAD_IN_DAYS = 90
# Share of the accounts that were customers before the history starts (the rest start inside it).
EXISTING_SHARE = 0.3
# Months of tenure an existing customer may already have at the start of the history.
EXISTING_MAX_MONTHS = 24
# Churn hazard per month: FIRST_MONTH_HAZARD in the first month of an account of average engagement,
# falling as 1 / (month + 1) ** HAZARD_DECAY, times exp(-ENGAGEMENT_ON_CHURN · engagement).
FIRST_MONTH_HAZARD = 0.14
HAZARD_DECAY = 0.9
ENGAGEMENT_ON_CHURN = 0.9
MIN_HAZARD = 0.008
# Events on a weekday for an account of average engagement; exp(ENGAGEMENT_ON_USE · engagement) times it.
BASE_EVENTS = 4.0
ENGAGEMENT_ON_USE = 0.7
WEEKEND_FACTOR = 0.25
PLANS = (("Solo", Decimal("29.00")), ("Solo Plus", Decimal("49.00")), ("Solo Pro", Decimal("99.00")))
PRODUCT = "Simulated SaaS"
# (event, how common); the key features are the rarer ones, which engaged users reach.
FEATURES = (
    ("Session started", 10.0),
    ("page: Dashboard", 6.0),
    ("Item created", 4.0),
    ("Report viewed", 2.0),
    ("Export downloaded", 1.0),
    ("Integration used", 0.6),
    ("Automation run", 0.4),
)
KEY_FEATURES = {
    "Item created": "Items",
    "Report viewed": "Reports",
    "Export downloaded": "Exports",
    "Integration used": "Integrations",
    "Automation run": "Automations",
}


@dataclass
class SimulatedAccount:
    """What the generator decided for one account (the truth the measures should find)."""

    index: int
    engagement: float
    started_on: date
    churned_on: date | None
    features: int  # how many of FEATURES (from the most common) the account uses
    events_per_weekday: float
    account_id: int = 0


@dataclass
class SimulatedCompany:
    anchor: date
    days: int
    accounts: list[SimulatedAccount] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def history_start(self) -> date:
        return self.anchor - timedelta(days=self.days)


def add_months(day: date, months: int) -> date:
    """The same day of the month `months` later (the last day of a shorter month)."""
    from dateutil.relativedelta import relativedelta

    return day + relativedelta(months=months)


def tenure_months(account: SimulatedAccount) -> int:
    """Whole months from the start to the day the account left (or 0 when it has not)."""
    from dateutil.relativedelta import relativedelta

    if account.churned_on is None:
        return 0
    gap = relativedelta(account.churned_on, account.started_on)
    return gap.years * 12 + gap.months


def monthly_hazard(month: int, engagement: float) -> float:
    """The chance an account leaves at the end of its `month`-th month (0 = the first)."""
    hazard = FIRST_MONTH_HAZARD * math.exp(-ENGAGEMENT_ON_CHURN * engagement) / (month + 1) ** HAZARD_DECAY
    return min(0.9, max(MIN_HAZARD, hazard))


def plan_accounts(seed: int, *, accounts: int, days: int, anchor: date) -> list[SimulatedAccount]:
    """Who the customers are, when they start and leave: pure, from the seed and the anchor only."""
    rng = random.Random(f"touchpoint-simulated-company:{seed}")
    history_start = anchor - timedelta(days=days)
    planned = []
    for index in range(accounts):
        engagement = rng.gauss(0.0, 1.0)
        if rng.random() < EXISTING_SHARE:
            # A customer since before the history, who was still one on its first day.
            started = history_start - timedelta(days=rng.randint(1, EXISTING_MAX_MONTHS * 30))
        else:
            started = history_start + timedelta(days=rng.randint(0, days - 1))
        churned_on = None
        month = 0
        while True:
            billing = add_months(started, month + 1)  # the end of the month: where a monthly plan stops
            if billing >= anchor:
                break
            if billing > history_start and rng.random() < monthly_hazard(month, engagement):
                churned_on = billing
                break
            month += 1
        # More engaged people reach further down the feature list and do more a day.
        features = max(2, min(len(FEATURES), round(3.5 + 1.4 * engagement + rng.gauss(0.0, 0.7))))
        events = BASE_EVENTS * math.exp(ENGAGEMENT_ON_USE * engagement) * rng.uniform(0.8, 1.25)
        planned.append(
            SimulatedAccount(
                index=index,
                engagement=engagement,
                started_on=started,
                churned_on=churned_on,
                features=features,
                events_per_weekday=events,
            )
        )
    return planned


def generate_simulated_company(
    seed: int, *, accounts: int = 1500, days: int = 270, anchor: date | None = None
) -> SimulatedCompany:
    """Write the simulated company into the current database in one transaction (see the module doc)."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction
    from django.utils import timezone

    from touchpoint.accounts.models import Account, Contact, TimelineEntry
    from touchpoint.demo.builders import TIMELINE_COLUMNS, DemoContext, timeline_row
    from touchpoint.revenue.demo import MOVEMENT_COLUMNS, SUBSCRIPTION_COLUMNS
    from touchpoint.revenue.models import MovementKind, MovementSource, MrrMovement, SubscriptionStatus
    from touchpoint.revenue.models import Subscription as SubscriptionModel
    from touchpoint.usage.models import DailyAccountRollup, DailyEventRollup, KeyFeature, ProductUser

    if accounts < 1 or days < 30:
        raise ValueError("Need at least one account and 30 days of history.")
    anchor = anchor or timezone.localdate()
    tz = timezone.get_current_timezone()
    company = SimulatedCompany(anchor=anchor, days=days)
    company.accounts = plan_accounts(seed, accounts=accounts, days=days, anchor=anchor)
    ctx = DemoContext(seed=seed, days=days, account_count=accounts, anchor=anchor, tz=tz)
    noise = np.random.default_rng(np.random.SeedSequence([seed, 19]))

    def at(day: date, hour: int = 12) -> datetime:
        return datetime.combine(day, time(hour), tzinfo=tz)

    with transaction.atomic():
        KeyFeature.objects.bulk_create(
            [KeyFeature(event=event, label=label) for event, label in KEY_FEATURES.items()],
            ignore_conflicts=True,
        )
        saved = ctx.bulk_create(
            Account,
            [
                Account(
                    name=f"Solo customer {a.index + 1:05d}",
                    domain=f"solo{a.index + 1}.example",
                    external_id=f"sim-{seed}-{a.index + 1}",
                    engagement_model="low",
                    created_at=at(a.started_on, 9),
                )
                for a in company.accounts
            ],
        )
        for planned, account in zip(company.accounts, saved, strict=True):
            planned.account_id = account.pk
        contacts = ctx.bulk_create(
            Contact,
            [
                Contact(
                    account_id=a.account_id,
                    name=f"Solo user {a.index + 1:05d}",
                    email=f"user@solo{a.index + 1}.example",
                    external_id=f"sim-{seed}-user-{a.index + 1}",
                    created_at=at(a.started_on, 9),
                )
                for a in company.accounts
            ],
        )
        ctx.bulk_create(
            ProductUser,
            [
                ProductUser(
                    user_id=contact.external_id or "",
                    email=contact.email,
                    name=contact.name,
                    account_id=a.account_id,
                    contact=contact,
                    first_seen_at=at(a.started_on, 9),
                    last_seen_at=at(min(a.churned_on or anchor, anchor) - timedelta(days=1), 18),
                )
                for a, contact in zip(company.accounts, contacts, strict=True)
            ],
        )

        subscription_rows = []
        for a in company.accounts:
            plan, mrr = PLANS[a.index % len(PLANS)]
            # The renewal date is the next billing date: after today for a live one, the day it
            # stopped for one that left (never empty, so it tells nothing about the future).
            renewal = a.churned_on
            if renewal is None:
                months = 1
                while (renewal := add_months(a.started_on, months)) <= anchor:
                    months += 1
            subscription_rows.append(
                (
                    a.account_id,
                    f"sim-{seed}-sub-{a.index + 1}",
                    PRODUCT,
                    plan,
                    1,
                    mrr,
                    "USD",
                    SubscriptionStatus.CANCELED if a.churned_on else SubscriptionStatus.ACTIVE,
                    a.started_on,
                    1,
                    renewal,
                    a.churned_on is None,
                    a.churned_on,
                    a.started_on,
                    a.started_on,
                    a.started_on,
                    at(a.started_on, 9),
                    at(a.started_on, 9),
                )
            )
        subscription_ids = ctx.insert_rows(
            SubscriptionModel, SUBSCRIPTION_COLUMNS, subscription_rows, return_ids=True
        )
        movements: list[tuple] = []
        for a, subscription_id in zip(company.accounts, subscription_ids, strict=True):
            mrr = PLANS[a.index % len(PLANS)][1]
            movements.append((subscription_id, a.account_id, MovementKind.NEW, a.started_on, Decimal(0), mrr))
            if a.churned_on is not None:
                movements.append(
                    (subscription_id, a.account_id, MovementKind.CHURN, a.churned_on, mrr, Decimal(0))
                )
        movement_ids = ctx.insert_rows(
            MrrMovement,
            MOVEMENT_COLUMNS,
            [
                (sub, account, kind, day, before, after, after - before, "USD", None, "",
                 MovementSource.DEMO, None, at(day), None, None, "", None, {})
                for sub, account, kind, day, before, after in movements
            ],
            return_ids=True,
        )  # fmt: skip
        movement_type = ContentType.objects.get_for_model(MrrMovement).pk
        ctx.insert_rows(
            TimelineEntry,
            TIMELINE_COLUMNS,
            [
                timeline_row(
                    account_id=account,
                    kind="mrr_movement",
                    occurred_at=at(day),
                    title=f"{MovementKind(kind).label}: {PRODUCT} {after - before:+} USD MRR",
                    subject_type_id=movement_type,
                    subject_id=movement_id,
                    data={
                        "kind": str(kind),
                        "product": PRODUCT,
                        "delta": str(after - before),
                        "mrr_after": str(after),
                        "currency": "USD",
                        "reason": "",
                    },
                )
                for movement_id, (_sub, account, kind, day, before, after) in zip(
                    movement_ids, movements, strict=True
                )
            ],
        )

        # Daily rollups, flat in expectation from the first day to the day before the account left.
        usage_from = company.history_start - timedelta(days=USAGE_LEAD_IN_DAYS)
        names = [name for name, _weight in FEATURES]
        account_rows: list[tuple] = []
        event_rows: list[tuple] = []
        for a in company.accounts:
            first = max(a.started_on, usage_from)
            last = (a.churned_on or anchor) - timedelta(days=1)
            if last < first:
                continue
            span = (last - first).days + 1
            days_list = [first + timedelta(days=offset) for offset in range(span)]
            weekday = np.array([day.weekday() < 5 for day in days_list])
            rate = a.events_per_weekday * np.where(weekday, 1.0, WEEKEND_FACTOR)
            events = noise.poisson(rate)
            weights = np.array([weight for _name, weight in FEATURES[: a.features]])
            weights /= weights.sum()
            split = noise.multinomial(events, weights)  # (days, features)
            for row in np.flatnonzero(events):
                day = days_list[row]
                account_rows.append((day, int(events[row]), 1, a.account_id, False))
                for column in np.flatnonzero(split[row]):
                    event_rows.append((day, names[column], int(split[row, column]), 1, a.account_id))
        ctx.insert_rows(
            DailyAccountRollup, ("day", "events", "active_users", "account_id", "people_kept"), account_rows
        )
        ctx.insert_rows(DailyEventRollup, ("day", "event", "events", "users", "account_id"), event_rows)
    company.counts = ctx.counts
    return company


def describe(company: SimulatedCompany) -> list[str]:
    """A few lines on the company's shape: churn by month of tenure, use by engagement."""
    lines = []
    churned = [a for a in company.accounts if a.churned_on is not None]
    lines.append(
        f"{len(company.accounts):,} accounts over {company.days} days up to {company.anchor}; "
        f"{len(churned):,} left ({len(churned) / max(1, len(company.accounts)):.0%})"
    )
    by_month = Counter(min(12, tenure_months(a) - 1) for a in churned)
    lines.append(
        "churn by month of tenure: "
        + ", ".join(f"{'12+' if m == 12 else m + 1}: {by_month.get(m, 0)}" for m in range(13))
    )
    low = [a.events_per_weekday for a in company.accounts if a.engagement < -0.5]
    high = [a.events_per_weekday for a in company.accounts if a.engagement > 0.5]
    lines.append(
        f"events a weekday: {np.mean(low):.1f} for the least engaged third, {np.mean(high):.1f} for the most"
    )
    lines.append(
        "rows: " + ", ".join(f"{label} {count:,}" for label, count in sorted(company.counts.items()))
    )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=1500)
    parser.add_argument("--days", type=int, default=270)
    parser.add_argument("--seed", type=int, default=19)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _setup import throwaway_database

    _workdir, drop_database = throwaway_database("tp-bench-company-")
    import time as clock

    started = clock.perf_counter()
    company = generate_simulated_company(args.seed, accounts=args.accounts, days=args.days)
    print(f"generated in {clock.perf_counter() - started:.1f}s")
    for line in describe(company):
        print(line)
    drop_database()


if __name__ == "__main__":
    main()
