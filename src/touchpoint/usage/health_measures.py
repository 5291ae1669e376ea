"""The health measures product usage provides: usage trend, active users and breadth of adoption.

Registered from UsageConfig.ready(); health runs them for every account at once (see health/measures.py).
Each reads only rollups of days up to the scored day, so the back-test can score past days.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from touchpoint.accounts.models import Contact
from touchpoint.health.measures import (
    LIVE_SUBSCRIPTIONS,
    AsOf,
    Measure,
    MeasureSource,
    has_shared_cte,
    register_before_scoring,
    register_measure,
    register_source,
)
from touchpoint.usage.models import DailyAccountRollup, DailyEventRollup, KeyFeature

USAGE_WINDOW_DAYS = 90  # an account with no usage rollups in this window has no usage data
RECENT_DAYS = 30  # "last 30 days"; the trend compares it with the 30 days before
# Early activity: a customer in its first EARLY_DAYS is compared with the others at that stage, once
# it has been a customer for EARLY_MIN_DAYS (a few days say nothing), against a norm of at least
# NORM_MIN_ACCOUNTS accounts (its segment's, else every segment's).
EARLY_DAYS = 90
EARLY_MIN_DAYS = 14
NORM_MIN_ACCOUNTS = 5


def _usage_sql(at: AsOf) -> tuple[str, list]:
    # Active users are counted against the seats paid for when billing is known (the live
    # subscriptions another app may provide), else against the account's contacts.
    if has_shared_cte(LIVE_SUBSCRIPTIONS):
        seats_join = f"""
        LEFT JOIN (SELECT account_id, NULLIF(SUM(quantity), 0) AS n FROM {LIVE_SUBSCRIPTIONS}
                   GROUP BY account_id) seats
               ON seats.account_id = u.account_id"""
        seats = "seats.n"
    else:
        seats_join, seats = "", "NULL"
    sql = f"""
        SELECT u.account_id,
               CASE WHEN u.previous > 0 AND u.first_day <= %s
                    THEN 100.0 * (u.recent - u.previous) / u.previous END AS usage_trend,
               CASE WHEN COALESCE({seats}, contacts.n, 0) > 0
                    THEN 100.0 * u.peak_users / COALESCE({seats}, contacts.n) END AS active_users
        FROM (
            SELECT account_id,
                   SUM(CASE WHEN day >= %s THEN events ELSE 0 END) AS recent,
                   SUM(CASE WHEN day >= %s AND day < %s THEN events ELSE 0 END) AS previous,
                   MAX(CASE WHEN day >= %s THEN active_users ELSE 0 END) AS peak_users,
                   MIN(day) AS first_day
            FROM {DailyAccountRollup._meta.db_table}
            WHERE day > %s AND day <= %s
            GROUP BY account_id
        ) u{seats_join}
        LEFT JOIN (SELECT account_id, COUNT(*) AS n FROM {Contact._meta.db_table} WHERE created_at < %s
                   GROUP BY account_id) contacts
               ON contacts.account_id = u.account_id
    """
    recent_start = at.date(RECENT_DAYS - 1)
    previous_start = at.date(2 * RECENT_DAYS - 1)
    # The trend compares two whole windows: an account whose usage starts inside the earlier one (a
    # new customer) would read as a huge rise; its trend is unknown until both windows are complete.
    params = [
        previous_start,
        recent_start,
        previous_start,
        recent_start,
        recent_start,
        at.date(USAGE_WINDOW_DAYS),
        at.date(),
        at.end,
    ]
    return sql, params


def _breadth_sql(at: AsOf) -> tuple[str, list]:
    # Accounts with any usage in the window are known; with no key features defined nobody is.
    rollups, features = DailyEventRollup._meta.db_table, KeyFeature._meta.db_table
    sql = f"""
        SELECT r.account_id,
               100.0 * COUNT(DISTINCT CASE WHEN r.day >= %s THEN k.event END)
                     / (SELECT COUNT(*) FROM {features}) AS breadth
        FROM {rollups} r
        LEFT JOIN {features} k ON k.event = r.event
        WHERE r.day > %s AND r.day <= %s AND EXISTS (SELECT 1 FROM {features})
        GROUP BY r.account_id
    """
    return sql, [at.date(RECENT_DAYS - 1), at.date(USAGE_WINDOW_DAYS), at.date()]


def _early_activity_sql(at: AsOf) -> tuple[str, list]:
    """Events per day since the account became a customer, as a percentage of the median of the
    customers in their first 90 days on the same day (its segment's when it has enough of them).

    Only customers in their first 90 days have a value: later, the usage measures say more.
    """
    from touchpoint.accounts.models import Account

    accounts, rollups = Account._meta.db_table, DailyAccountRollup._meta.db_table
    day_of = "date(a.created_at)" if at.vendor == "sqlite" else "CAST(a.created_at AS date)"
    end = timezone.make_aware(datetime.combine(at.day + timedelta(days=1), time.min))

    def median(partition: str) -> str:
        # The middle rate (the mean of the two middle ones for an even count), in SQL both databases speak.
        return f"""
            SELECT {partition or "0 AS segment"}, AVG(rate) AS norm FROM (
                SELECT segment, rate,
                       ROW_NUMBER() OVER ({f"PARTITION BY {partition} " if partition else ""}ORDER BY rate)
                           AS position,
                       COUNT(*) OVER ({f"PARTITION BY {partition}" if partition else ""}) AS accounts
                FROM early_rates
            ) ranked
            WHERE accounts >= %s AND position IN ((accounts + 1) / 2, (accounts + 2) / 2)
            {f"GROUP BY {partition}" if partition else ""}"""

    sql = f"""
        WITH early_rates AS (
            SELECT a.id AS account_id, COALESCE(a.segment_id, 0) AS segment,
                   {at.as_float("COALESCE(SUM(r.events), 0)")} / ({at.days_since("a.created_at")} + 1) AS rate
            FROM {accounts} a
            LEFT JOIN {rollups} r
                   ON r.account_id = a.id AND r.day > %s AND r.day <= %s AND r.day >= {day_of}
            WHERE a.created_at > %s AND a.created_at <= %s
            GROUP BY a.id, COALESCE(a.segment_id, 0), a.created_at
        ),
        segment_norms AS ({median("segment")}),
        overall_norm AS ({median("")})
        SELECT e.account_id,
               CASE WHEN COALESCE(s.norm, o.norm) > 0 THEN 100.0 * e.rate / COALESCE(s.norm, o.norm)
               END AS early_activity
        FROM early_rates e
        LEFT JOIN segment_norms s ON s.segment = e.segment
        CROSS JOIN overall_norm o
    """
    adapt = connection.ops.adapt_datetimefield_value
    params = [
        at.end,
        at.date(EARLY_DAYS),
        at.date(),
        adapt(end - timedelta(days=EARLY_DAYS)),
        adapt(end - timedelta(days=EARLY_MIN_DAYS)),
        NORM_MIN_ACCOUNTS,
        NORM_MIN_ACCOUNTS,
    ]
    return sql, params


def _bring_rollups_up_to_date() -> None:
    from touchpoint.usage import rollups

    rollups.refresh_pending()  # events ingested but not yet rolled up count too


def register() -> None:
    register_before_scoring(_bring_rollups_up_to_date)
    register_source(MeasureSource("usage", columns=("usage_trend", "active_users"), query=_usage_sql))
    register_source(MeasureSource("breadth", columns=("breadth",), query=_breadth_sql))
    register_source(MeasureSource("early", columns=("early_activity",), query=_early_activity_sql))
    register_measure(
        Measure(
            "usage_trend",
            label=_("Usage trend"),
            source="usage",
            column="usage_trend",
            unit="%",
            help=_("Events in the last 30 days against the 30 days before, as a change in percent."),
            weight=3,
            green=0,
            red=-50,
            position=10,
        )
    )
    register_measure(
        Measure(
            "breadth",
            label=_("Breadth of adoption"),
            source="breadth",
            column="breadth",
            unit="%",
            help=_("Key features used in the last 30 days, out of those defined."),
            weight=2,
            green=60,
            red=10,
            position=20,
        )
    )
    register_measure(
        Measure(
            "active_users",
            label=_("Active users"),
            source="usage",
            column="active_users",
            unit="%",
            help=_(
                "Most people active on one day in the last 30 days, against seats paid for (or contacts)."
            ),
            weight=2,
            green=50,
            red=10,
            position=30,
        )
    )
    register_measure(
        Measure(
            "early_activity",
            label=_("Early activity"),
            source="early",
            column="early_activity",
            unit="%",
            help=_(
                "For a customer in its first 90 days: events per day since it started, against the median "
                "of the customers at that stage in its segment (the norm is 100)."
            ),
            # Known only in the first 90 days: a new scorecard weighs it 0 and leaves it to the fit and
            # the learned model, which learn what it and its absence (an older customer) mean.
            weight=0,
            green=100,
            red=25,
            position=8,
        )
    )
