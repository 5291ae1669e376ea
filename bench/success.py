"""Success placement over many accounts: `placement.place_all` against one hand-written SQL query.

Builds N accounts (default 100,000) with 90 days of daily usage rollups, key-feature event rollups on
some days, one subscription each (start and renewal spread over the year), a first-value milestone
reached by a third of them, and one framework whose phases have five entry rules:

    Onboarding  (no rules)
    Adoption    days_since_start ≥ 30, active_users ≥ 3 in 7 days
    Value       milestone first-value, key_features ≥ 2 in 30 days
    Renewal     days_to_renewal ≤ 90

Then times, in the same run:
  - first run: `place_all()` creating every placement (with its timeline entry and domain event);
  - steady run: `place_all()` again, nothing changed (what the daily run mostly is);
  - moves run: `place_all()` after a tenth of the accounts' renewals came within 90 days;
  - baseline: one hand-written SELECT computing the same phase for every account, fetched.
Prints seconds and the ratios against the baseline (goal ≤ 2.0 for the steady run). Then, when the
milestones part is present (`success.milestones.record_from_usage`), its seconds over the same data.

    .venv/bin/python bench/success.py [--accounts 100000] [--days 90] [--repeat 3]
Uses DATABASE_URL when set (PostgreSQL, in a throw-away test database beside it), else a temporary SQLite file.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import throwaway_database


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    reuse = bool(os.environ.get("BENCH_REUSE_DB"))
    _workdir, drop_database = throwaway_database("tp-bench-success-", reuse=reuse)
    from django.db import connection
    from django.utils import timezone

    from touchpoint.accounts.models import Account
    from touchpoint.success import placement
    from touchpoint.success.models import (
        AccountPlacement,
        LifecyclePhase,
        MilestoneDefinition,
        SuccessFramework,
    )
    from touchpoint.usage.models import KeyFeature

    pg = connection.vendor == "postgresql"
    now = timezone.now()
    today = timezone.localdate(now)
    started = time.perf_counter()
    built = reuse and Account.objects.exists()
    if not built:
        for name in ["Report created", "Dashboard shared", "Alert configured", "User invited"]:
            KeyFeature.objects.create(event=name, label=name)
        framework = SuccessFramework.objects.create(key="standard", name="Standard", is_default=True)
        milestone = MilestoneDefinition.objects.create(
            framework=framework, key="first-value", name="First value", rule={"event": "Report created"}
        )
        rules = [
            ("onboarding", "Onboarding", []),
            (
                "adoption",
                "Adoption",
                [{"days_since_start": {"at_least": 30}}, {"active_users": {"at_least": 3, "days": 7}}],
            ),
            ("value", "Value", [{"milestone": "first-value"}, {"key_features": {"at_least": 2, "days": 30}}]),
            ("renewal", "Renewal", [{"days_to_renewal": {"at_most": 90}}]),
        ]
        for position, (key, name, entry_rules) in enumerate(rules):
            LifecyclePhase.objects.create(
                framework=framework, key=key, name=name, position=position, entry_rules=entry_rules
            )
    framework = SuccessFramework.objects.get(key="standard")
    milestone = MilestoneDefinition.objects.get(framework=framework, key="first-value")
    phase_ids = dict(LifecyclePhase.objects.filter(framework=framework).values_list("key", "pk"))

    numbers = (
        "SELECT generate_series(1, %s) AS n"
        if pg
        else "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < %s) SELECT n FROM seq"
    )
    days = (
        "SELECT generate_series(0, %s) AS d"
        if pg
        else "WITH RECURSIVE seq(d) AS (SELECT 0 UNION ALL SELECT d + 1 FROM seq WHERE d < %s) SELECT d FROM seq"
    )
    day_expr = "(%s::date - d.d)" if pg else "date(%s, '-' || d.d || ' days')"
    start_expr = "(%s::date - (a.id %% 200)::integer)" if pg else "date(%s, '-' || (a.id %% 200) || ' days')"
    renewal_expr = (
        "(%s::date + (a.id %% 365)::integer)" if pg else "date(%s, '+' || (a.id %% 365) || ' days')"
    )
    now_param = connection.ops.adapt_datetimefield_value(now)
    today_param = connection.ops.adapt_datefield_value(today)
    if not built:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO accounts_account (name, domain, engagement_model, attributes, language, created_at, "
                "updated_at) SELECT 'Customer ' || n, 'customer' || n || '.example', 'hybrid', '{}', '', %s, %s "
                f"FROM ({numbers}) nums",
                [
                    connection.ops.adapt_datetimefield_value(now - timedelta(days=400)),
                    now_param,
                    args.accounts,
                ],
            )
            cursor.execute(
                "INSERT INTO usage_dailyaccountrollup (account_id, day, events, active_users) "
                f"SELECT a.id, {day_expr}, (a.id * 7 + d.d * 13) %% 50 + 1, (a.id + d.d) %% 6 "
                f"FROM accounts_account a CROSS JOIN ({days}) d",
                [today_param, args.days - 1],
            )
            cursor.execute(
                "INSERT INTO usage_dailyeventrollup (account_id, day, event, events, users) "
                f"SELECT a.id, {day_expr}, k.event, 1, 1 FROM accounts_account a CROSS JOIN ({days}) d "
                "JOIN usage_keyfeature k ON (a.id + d.d * 3 + k.id) %% 23 = 0",
                [today_param, args.days - 1],
            )
            # Every 11th account has only a canceled subscription: no renewal ahead.
            cursor.execute(
                "INSERT INTO revenue_subscription (account_id, product, plan, quantity, mrr, currency, status, "
                "started_on, term_months, renewal_date, auto_renew, created_at, updated_at) "
                "SELECT a.id, 'Cloud', 'Team', 10, 1000, 'USD', "
                "CASE WHEN a.id %% 11 = 0 THEN 'canceled' ELSE 'active' END, "
                f"{start_expr}, 12, {renewal_expr}, {'true' if pg else '1'}, %s, %s "
                "FROM accounts_account a WHERE a.id %% 13 <> 0",  # some have none: start = created
                [today_param, today_param, now_param, now_param],
            )
            cursor.execute(
                "INSERT INTO success_milestonereached (account_id, milestone_id, reached_on, source, evidence, "
                "evidence_url, confirmed_by_name, recorded_at) "
                "SELECT a.id, %s, %s, 'rule', '', '', '', %s FROM accounts_account a WHERE a.id %% 3 = 0",
                [milestone.pk, today_param, now_param],
            )
            cursor.execute("ANALYZE")
    print(
        f"built {args.accounts:,} accounts × {args.days} days of rollups in {time.perf_counter() - started:.1f}s "
        f"on {connection.vendor}"
    )

    if pg:
        days_since = "(%s::date - COALESCE(subs.started, (a.created_at AT TIME ZONE %s)::date))"
        days_to = "(subs.renewal - %s::date)"
        tz_param = [str(timezone.get_current_timezone())]
    else:
        # SQLite keeps datetimes in UTC; the site's zone is UTC in the bench settings.
        days_since = "(julianday(%s) - julianday(COALESCE(subs.started, date(a.created_at))))"
        days_to = "(julianday(subs.renewal) - julianday(%s))"
        tz_param = []
    baseline_sql = f"""
        WITH subs AS (SELECT account_id, MIN(started_on) AS started,
                             MIN(CASE WHEN status <> 'canceled' AND renewal_date >= %s THEN renewal_date END) AS renewal
                      FROM revenue_subscription GROUP BY account_id),
        usage AS (SELECT account_id, MAX(active_users) AS peak FROM usage_dailyaccountrollup
                  WHERE day >= %s AND day <= %s GROUP BY account_id),
        features AS (SELECT r.account_id, COUNT(DISTINCT r.event) AS used FROM usage_dailyeventrollup r
                     JOIN usage_keyfeature k ON k.event = r.event
                     WHERE r.day >= %s AND r.day <= %s GROUP BY r.account_id),
        reached AS (SELECT account_id FROM success_milestonereached WHERE milestone_id = %s AND reached_on <= %s)
        SELECT a.id,
               CASE WHEN {days_to} <= 90 THEN %s
                    WHEN reached.account_id IS NOT NULL AND COALESCE(features.used, 0) >= 2 THEN %s
                    WHEN {days_since} >= 30 AND COALESCE(usage.peak, 0) >= 3 THEN %s
                    ELSE %s END
        FROM accounts_account a
        LEFT JOIN subs ON subs.account_id = a.id
        LEFT JOIN usage ON usage.account_id = a.id
        LEFT JOIN features ON features.account_id = a.id
        LEFT JOIN reached ON reached.account_id = a.id
    """
    baseline_params = [
        today,
        today - timedelta(days=6),
        today,
        today - timedelta(days=29),
        today,
        milestone.pk,
        today,
        today,
        phase_ids["renewal"],
        phase_ids["value"],
        today,
        *tz_param,
        phase_ids["adoption"],
        phase_ids["onboarding"],
    ]

    def time_baseline() -> tuple[float, dict[int, int]]:
        with connection.cursor() as cursor:
            t0 = time.perf_counter()
            cursor.execute(baseline_sql, baseline_params)
            rows = cursor.fetchall()
            return time.perf_counter() - t0, dict(rows)

    def time_place() -> tuple[float, placement.PlacementStats]:
        t0 = time.perf_counter()
        stats = placement.place_all(now=timezone.now())
        return time.perf_counter() - t0, stats

    time_baseline()  # warm the caches
    first_s, first = time_place()
    steady_s: list[float] = []
    baseline_s: list[float] = []
    for _ in range(args.repeat):
        seconds, stats = time_place()
        assert stats.moved == 0, stats
        steady_s.append(seconds)
        seconds, expected = time_baseline()
        baseline_s.append(seconds)
    placed = dict(AccountPlacement.objects.values_list("account_id", "phase_id"))
    wrong = sum(1 for account_id, phase in expected.items() if placed.get(account_id) != phase)
    assert len(expected) == args.accounts and not wrong, f"{wrong} accounts placed unlike the baseline"

    with connection.cursor() as cursor:  # a tenth of the accounts' renewals come within 90 days
        cursor.execute(
            "UPDATE revenue_subscription SET renewal_date = %s, status = 'active' WHERE account_id %% 10 = 1",
            [today + timedelta(days=45)],
        )
    moves_s, moves = time_place()

    steady, baseline = statistics.median(steady_s), statistics.median(baseline_s)
    print(f"first run (creates {first.placed:,} placements, {first.moved:,} moves recorded): {first_s:.2f}s")
    print(f"steady run (nothing changed, {args.accounts:,} accounts):          {steady:.2f}s")
    print(f"moves run ({moves.moved:,} accounts moved, timeline + events):         {moves_s:.2f}s")
    print(f"baseline (one hand-written SELECT of the same placement):      {baseline:.2f}s")
    print(f"ratio steady/baseline: {steady / baseline:.2f} (goal ≤ 2.0)")
    print(f"ratio moves/baseline:  {moves_s / baseline:.2f}")
    print(f"ratio first/baseline:  {first_s / baseline:.2f}")

    try:
        from touchpoint.success import milestones
    except ImportError:
        milestones = None  # type: ignore[assignment]
    record = getattr(milestones, "record_from_usage", None)
    if record is not None:
        t0 = time.perf_counter()
        found = record()
        print(
            f"milestones.record_from_usage over the same data: {time.perf_counter() - t0:.2f}s ({found:,} reached)"
        )
    else:
        print("milestones.record_from_usage: not present on this branch")

    drop_database()


if __name__ == "__main__":
    main()
