"""Health recompute over many accounts: the full recompute against one hand-written SQL aggregate.

Builds N accounts (default 100,000) with 90 days of daily usage rollups, key-feature event rollups
on some days, a human touch, a subscription with its first MRR movement and, for some, a failed
payment, all generated in SQL in a fresh database. Then times, in the same run:
  - recompute: `services.recompute_health(day=…)`: every registered measure, the scorecard's points,
    weights and grades, and the INSERT of one HealthScore row (with its JSON contributions) per account;
  - baseline: one hand-written SELECT computing the same six measures for every account over the same
    tables, fetched but not scored or stored.
Prints seconds for both and the ratio recompute/baseline (goal ≤ 2.0).

    .venv/bin/python bench/health.py [--accounts 100000] [--days 90] [--repeat 3]
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

    reuse = bool(os.environ.get("BENCH_REUSE_DB"))  # for profiling: build once in DATABASE_URL, keep it
    _workdir, drop_database = throwaway_database("tp-bench-", reuse=reuse)
    from django.db import connection
    from django.utils import timezone

    from touchpoint.health import services
    from touchpoint.health.measures import AsOf, human_touch_kinds
    from touchpoint.usage.models import KeyFeature

    today = timezone.localdate()
    at = AsOf(today)
    pg = connection.vendor == "postgresql"
    started = time.perf_counter()
    from touchpoint.accounts.models import Account

    built = reuse and Account.objects.exists()
    for _index, name in enumerate(
        [] if built else ["Report created", "Dashboard shared", "Alert configured", "User invited"]
    ):
        KeyFeature.objects.create(event=name, label=name)
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
    moment = (
        "(%s::timestamptz - (a.id %% 120) * interval '1 day')"
        if pg
        else "datetime(%s, '-' || (a.id %% 120) || ' days')"
    )
    renewal_expr = (
        "(%s::date + (a.id %% 365)::integer)" if pg else "date(%s, '+' || (a.id %% 365) || ' days')"
    )
    now = timezone.now()
    now_param = connection.ops.adapt_datetimefield_value(now)
    today_param = connection.ops.adapt_datefield_value(today)
    if not built:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO accounts_account (name, domain, engagement_model, created_at, updated_at) "
                f"SELECT 'Customer ' || n, 'customer' || n || '.example', 'hybrid', %s, %s FROM ({numbers}) nums",
                [
                    connection.ops.adapt_datetimefield_value(now - timedelta(days=400)),
                    now_param,
                    args.accounts,
                ],
            )
            cursor.execute(
                "INSERT INTO usage_dailyaccountrollup (account_id, day, events, active_users) "
                f"SELECT a.id, {day_expr}, (a.id * 7 + d.d * 13) %% 50 + 1, (a.id + d.d) %% 8 + 1 "
                f"FROM accounts_account a CROSS JOIN ({days}) d",
                [today_param, args.days - 1],
            )
            cursor.execute(
                "INSERT INTO usage_dailyeventrollup (account_id, day, event, events, users) "
                f"SELECT a.id, {day_expr}, k.event, 1, 1 FROM accounts_account a CROSS JOIN ({days}) d "
                "JOIN usage_keyfeature k ON (a.id + d.d + k.id) %% 9 = 0",
                [today_param, args.days - 1],
            )
            cursor.execute(
                "INSERT INTO accounts_timelineentry (account_id, kind, occurred_at, title, body, data, created_at) "
                f"SELECT a.id, 'meeting', {moment}, 'Meeting', '', '{{}}', %s FROM accounts_account a",
                [now_param, now_param],
            )
            cursor.execute(
                "INSERT INTO accounts_timelineentry (account_id, kind, occurred_at, title, body, data, created_at) "
                f"SELECT a.id, 'payment_failed', {moment}, 'Payment failed', '', '{{}}', %s "
                "FROM accounts_account a WHERE a.id %% 10 = 0",
                [now_param, now_param],
            )
            cursor.execute(
                "INSERT INTO revenue_subscription (account_id, product, plan, quantity, mrr, currency, status, "
                "started_on, term_months, renewal_date, auto_renew, created_at, updated_at) "
                "SELECT a.id, 'Cloud', 'Team', a.id %% 20 + 1, 1000, 'USD', 'active', %s, 12, "
                f"{renewal_expr}, "
                f"{'true' if pg else '1'}, %s, %s FROM accounts_account a",
                [
                    connection.ops.adapt_datefield_value(today - timedelta(days=400)),
                    today_param,
                    now_param,
                    now_param,
                ],
            )
            cursor.execute(
                "INSERT INTO revenue_mrrmovement (subscription_id, account_id, kind, occurred_on, mrr_before, mrr_after, "
                "delta, currency, note, source, created_at) "
                "SELECT s.id, s.account_id, 'new', s.started_on, 0, 1000, 1000, 'USD', '', 'demo', %s "
                "FROM revenue_subscription s",
                [now_param],
            )
            cursor.execute("ANALYZE")
    print(
        f"built {args.accounts:,} accounts × {args.days} days of rollups in {time.perf_counter() - started:.1f}s "
        f"on {connection.vendor}"
    )

    kinds = human_touch_kinds()
    live_clause = """
        SELECT s.id, s.account_id, s.quantity, s.renewal_date, s.term_months, s.status
        FROM revenue_subscription s
        WHERE s.started_on <= %s AND (
            (SELECT m.mrr_after FROM revenue_mrrmovement m WHERE m.subscription_id = s.id AND m.occurred_on <= %s
             ORDER BY m.occurred_on DESC, m.id DESC LIMIT 1) > 0
            OR (NOT EXISTS (SELECT 1 FROM revenue_mrrmovement m WHERE m.subscription_id = s.id)
                AND (s.canceled_on IS NULL OR s.canceled_on > %s) AND s.status <> 'canceled'))"""
    baseline_sql = f"""
        WITH live AS ({live_clause}),
        subs AS (SELECT account_id, NULLIF(SUM(quantity), 0) AS seats, MAX(CASE WHEN status = 'past_due' THEN 1 ELSE 0 END) AS status_due,
                        MIN(CASE WHEN renewal_date >= %s THEN {at.days_between_dates("renewal_date", "%s")} %% (term_months * 365 / 12) END) AS renewal
                 FROM live GROUP BY account_id),
        usage AS (SELECT account_id,
                         SUM(CASE WHEN day >= %s THEN events ELSE 0 END) AS recent,
                         SUM(CASE WHEN day >= %s AND day < %s THEN events ELSE 0 END) AS previous,
                         MAX(CASE WHEN day >= %s THEN active_users ELSE 0 END) AS peak
                  FROM usage_dailyaccountrollup WHERE day > %s AND day <= %s GROUP BY account_id),
        breadth AS (SELECT r.account_id, COUNT(DISTINCT CASE WHEN r.day >= %s THEN k.event END) AS used
                    FROM usage_dailyeventrollup r LEFT JOIN usage_keyfeature k ON k.event = r.event
                    WHERE r.day > %s AND r.day <= %s GROUP BY r.account_id),
        timeline AS (SELECT account_id,
                            MAX(CASE WHEN kind IN ({", ".join(["%s"] * len(kinds))}) THEN occurred_at END) AS touch,
                            MAX(CASE WHEN kind = 'payment_failed' THEN occurred_at END) AS failed,
                            MAX(CASE WHEN kind = 'payment_recovered' THEN occurred_at END) AS recovered
                     FROM accounts_timelineentry WHERE occurred_at < %s GROUP BY account_id)
        SELECT a.id,
               CASE WHEN u.previous > 0 THEN 100.0 * (u.recent - u.previous) / u.previous END,
               100.0 * u.peak / subs.seats,
               100.0 * b.used / (SELECT COUNT(*) FROM usage_keyfeature),
               {at.days_since("t.touch")},
               CASE WHEN subs.account_id IS NULL THEN NULL
                    WHEN (t.failed IS NOT NULL AND (t.recovered IS NULL OR t.recovered < t.failed)) OR subs.status_due = 1
                    THEN 1 ELSE 0 END,
               subs.renewal
        FROM accounts_account a
        LEFT JOIN usage u ON u.account_id = a.id
        LEFT JOIN breadth b ON b.account_id = a.id
        LEFT JOIN subs ON subs.account_id = a.id
        LEFT JOIN timeline t ON t.account_id = a.id
    """
    recent, previous, window = at.date(29), at.date(59), at.date(90)
    baseline_params = [
        at.date(),
        at.date(),
        at.date(),
        at.date(),
        at.date(),
        recent,
        previous,
        recent,
        recent,
        window,
        at.date(),
        recent,
        window,
        at.date(),
        *kinds,
        at.end,
        at.end,
    ]

    def time_baseline() -> tuple[float, int]:
        with connection.cursor() as cursor:
            t0 = time.perf_counter()
            cursor.execute(baseline_sql, baseline_params)
            rows = cursor.fetchall()
            return time.perf_counter() - t0, len(rows)

    def time_recompute() -> tuple[float, int]:
        t0 = time.perf_counter()
        rows = services.recompute_health(day=today)
        return time.perf_counter() - t0, rows

    services.ensure_default_scorecard()
    time_baseline()  # warm the caches for both
    recompute_s, baseline_s = [], []
    for _ in range(args.repeat):
        seconds, rows = time_recompute()
        recompute_s.append(seconds)
        seconds, baseline_rows = time_baseline()
        baseline_s.append(seconds)
    assert rows == baseline_rows == args.accounts, (rows, baseline_rows)
    recompute, baseline = statistics.median(recompute_s), statistics.median(baseline_s)
    print(f"recompute (all measures, scores, INSERT of {rows:,} rows): {recompute:.2f}s")
    print(f"baseline (one hand-written SELECT of the same measures):  {baseline:.2f}s")
    print(f"ratio recompute/baseline: {recompute / baseline:.2f} (goal ≤ 2.0)")

    drop_database()


if __name__ == "__main__":
    main()
