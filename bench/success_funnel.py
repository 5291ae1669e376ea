"""The success-gap funnel page over many accounts: page time (p95) against a plain GROUP BY of the same rows.

Builds N accounts (default 100,000) with owners and segments, a placement in one framework (started
over the last 400 days, some without a start day), and reaches of its six milestones (four product,
two outcome, each reached by fewer accounts than the one before, a few out of order), all generated in
SQL in a fresh database. Then times, in the same run:
  - warm: GET /success/funnel/?framework=… through Django's full stack (session, auth, form, funnel,
    chart, template), 20 loads: the funnel comes from the cache (keyed on the latest change);
  - after a write: one reach recorded before each load, so each load computes the funnel again and
    draws the chart again (the figure that matters when data changes all day);
  - filtered (owner + cohort), after a write each time, and the stalled-accounts drill-down;
  - baseline: SELECT milestone_id, COUNT(*) … GROUP BY milestone_id over the same reaches and
    placements, straight through the cursor.
Prints p95 milliseconds for each and the ratio against the baseline. Goal: page p95 < 300 ms.

    .venv/bin/python bench/success_funnel.py [--accounts 100000] [--repeat 20]
Uses DATABASE_URL when set (PostgreSQL, in a throw-away test database beside it), else a temporary SQLite file.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import throwaway_database

# (key, kind, share of the accounts that reached the previous step that reach this one)
MILESTONES = [
    ("workspace-set-up", "product", 0.92),
    ("first-report", "product", 0.80),
    ("team-invited", "product", 0.70),
    ("weekly-use", "product", 0.75),
    ("first-outcome", "outcome", 0.45),
    ("renewal-case", "outcome", 0.60),
]


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
    _workdir, drop_database = throwaway_database("tp-bench-funnel-")
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from touchpoint.accounts.models import Account, Segment
    from touchpoint.success.models import (
        AccountPlacement,
        MilestoneDefinition,
        MilestoneReached,
        SuccessFramework,
    )
    from touchpoint.users.roles import Role
    from touchpoint.users.services import create_user

    pg = connection.vendor == "postgresql"
    today = timezone.localdate()
    started = time.perf_counter()
    leader = create_user(
        email="leader@bench.example", role=Role.CS_LEADER, password="x", check_password_strength=False
    )[0]
    owners = [
        create_user(
            email=f"csm{i}@bench.example", role=Role.CSM, password="x", check_password_strength=False
        )[0]
        for i in range(8)
    ]
    segments = [
        Segment.objects.create(name=n, tier=t) for t, n in enumerate(["Enterprise", "Mid-market", "SMB"], 1)
    ]
    framework = SuccessFramework.objects.create(name="Standard", key="standard", is_default=True)
    milestones = [
        MilestoneDefinition.objects.create(
            framework=framework,
            key=key,
            name=key.replace("-", " ").capitalize(),
            kind=kind,
            position=i,
            stall_after_days=14 + 7 * i,
        )
        for i, (key, kind, _share) in enumerate(MILESTONES)
    ]
    numbers = (
        "SELECT generate_series(1, %s) AS n"
        if pg
        else "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < %s) SELECT n FROM seq"
    )
    now_param = connection.ops.adapt_datetimefield_value(timezone.now())
    created = (
        "(%s::timestamptz - (n %% 500) * interval '1 day')"
        if pg
        else "datetime(%s, '-' || (n %% 500) || ' days')"
    )
    account_table, placement_table = Account._meta.db_table, AccountPlacement._meta.db_table
    reached_table = MilestoneReached._meta.db_table
    owner_ids = [o.pk for o in owners]
    segment_ids = [s.pk for s in segments]
    owner_case = "CASE n %% 8 " + " ".join(f"WHEN {i} THEN {pk}" for i, pk in enumerate(owner_ids)) + " END"
    segment_case = (
        "CASE n %% 3 " + " ".join(f"WHEN {i} THEN {pk}" for i, pk in enumerate(segment_ids)) + " END"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {account_table} (name, domain, external_id, owner_id, segment_id, engagement_model,"
            f" language, attributes, created_at, updated_at) "
            f"SELECT 'Customer ' || n, 'c' || n || '.example', 'acct_' || n, {owner_case}, {segment_case},"
            f" 'hybrid', '', '{{}}', {created}, %s FROM ({numbers}) AS seq",
            [now_param, now_param, args.accounts],
        )
        # Started over the last 400 days; one in ten without a start day (the account's creation counts).
        start = (
            "CASE WHEN a.id %% 10 = 0 THEN NULL ELSE (%s::date - (a.id %% 400)::integer) END"
            if pg
            else "CASE WHEN a.id %% 10 = 0 THEN NULL ELSE date(%s, '-' || (a.id %% 400) || ' days') END"
        )
        cursor.execute(
            f"INSERT INTO {placement_table} (account_id, framework_id, entered_at, framework_set_by_hand,"
            f" override_reason, started_on, placed_at) "
            f"SELECT a.id, %s, %s, FALSE, '', {start}, %s FROM {account_table} a",
            [framework.pk, now_param, connection.ops.adapt_datefield_value(today), now_param],
        )
        # Step i is reached by the accounts whose hash passes every share up to i (a deterministic
        # funnel), each some days after the start; every 50th account reaches step 3 without step 2.
        threshold = 1.0
        for i, (milestone, (_key, _kind, share)) in enumerate(zip(milestones, MILESTONES, strict=True)):
            threshold *= share
            cut = int(threshold * 1000)
            extra = " OR (a.id %% 50 = 7)" if i == 3 else ""
            day = (
                "(COALESCE(p.started_on, a.created_at::date) + ((a.id * 7 + %s) %% 60)::integer)"
                if pg
                else "date(COALESCE(p.started_on, date(a.created_at)), '+' || ((a.id * 7 + %s) %% 60) || ' days')"
            )
            cursor.execute(
                f"INSERT INTO {reached_table} (account_id, milestone_id, reached_on, source, evidence,"
                f" evidence_url, confirmed_by_name, recorded_at) "
                f"SELECT a.id, %s, {day}, 'rule', '', '', '', %s FROM {account_table} a "
                f"JOIN {placement_table} p ON p.account_id = a.id "
                f"WHERE ((a.id * 2654435761) %% 1000) < %s{extra}",
                [milestone.pk, 10 * i, now_param, cut],
            )
        # Reaches in the future of today are not real history: pull them back to today.
        cursor.execute(
            f"UPDATE {reached_table} SET reached_on = %s WHERE reached_on > %s",
            [connection.ops.adapt_datefield_value(today)] * 2,
        )
    if pg:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    reach_count = MilestoneReached.objects.count()
    print(
        f"built {args.accounts:,} accounts, {reach_count:,} milestone reaches in "
        f"{time.perf_counter() - started:.1f}s on {connection.vendor}"
    )

    client = Client()
    client.force_login(leader)
    page_url = f"/success/funnel/?framework={framework.pk}"
    filtered_url = f"/success/funnel/?framework={framework.pk}&owner={owners[1].pk}&cohort={(today - timedelta(days=90)):%Y-%m}"
    stalled_url = f"/success/funnel/stalled/{milestones[4].pk}/?framework={framework.pk}"
    writer_accounts = list(
        AccountPlacement.objects.filter(framework=framework)
        .exclude(account__milestones_reached__milestone=milestones[5])
        .values_list("account_id", flat=True)[: args.repeat * 4]
    )

    def write_one() -> None:
        # A reach recorded (as the milestone detection would): the funnel must be computed again.
        MilestoneReached.objects.create(
            account_id=writer_accounts.pop(), milestone=milestones[5], reached_on=today, source="manual"
        )

    def time_page(url: str, before: Callable[[], None] | None = None) -> list[float]:
        response = client.get(url)  # warm: templates, the chart library, the connection
        assert response.status_code == 200, response.status_code
        samples = []
        for _ in range(args.repeat):
            if before is not None:
                before()
            t0 = time.perf_counter()
            response = client.get(url)
            samples.append(time.perf_counter() - t0)
            assert response.status_code == 200, response.status_code
        return samples

    baseline_sql = (
        f"SELECT r.milestone_id, COUNT(*) FROM {reached_table} r "
        f"JOIN {placement_table} p ON p.account_id = r.account_id WHERE p.framework_id = %s GROUP BY r.milestone_id"
    )

    def time_baseline() -> list[float]:
        samples = []
        with connection.cursor() as cursor:
            for _ in range(args.repeat + 1):
                t0 = time.perf_counter()
                cursor.execute(baseline_sql, [framework.pk])
                cursor.fetchall()
                samples.append(time.perf_counter() - t0)
        return samples[1:]

    baseline = time_baseline()
    cases = [
        ("page, cached (warm)", time_page(page_url)),
        ("page, first load after a write", time_page(page_url, write_one)),
        ("owner + cohort, after a write", time_page(filtered_url, write_one)),
        ("stalled drill-down (50 rows)", time_page(stalled_url)),
    ]
    base_p95 = p95(baseline)
    print(f"{'case':34} {'p95 ms':>8} {'median ms':>10} {'ratio p95':>10}")
    print(
        f"{'baseline: COUNT(*) GROUP BY':34} {base_p95 * 1000:8.1f} {statistics.median(baseline) * 1000:10.1f} {1:10.2f}"
    )
    for label, samples in cases:
        print(
            f"{label:34} {p95(samples) * 1000:8.1f} {statistics.median(samples) * 1000:10.1f} "
            f"{p95(samples) / base_p95:10.2f}"
        )
    worst = max(p95(samples) for label, samples in cases if label.startswith("page"))
    print(f"goal: page p95 < 300 ms: {'met' if worst < 0.3 else 'NOT met'} ({worst * 1000:.0f} ms)")
    drop_database()


if __name__ == "__main__":
    main()
