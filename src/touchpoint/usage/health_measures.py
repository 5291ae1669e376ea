"""The health measures product usage provides: usage trend, active users and breadth of adoption.

Registered from UsageConfig.ready(); health runs them for every account at once (see health/measures.py).
Each reads only rollups of days up to the scored day, so the back-test can score past days.
"""

from __future__ import annotations

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


def _bring_rollups_up_to_date() -> None:
    from touchpoint.usage import rollups

    rollups.refresh_pending()  # events ingested but not yet rolled up count too


def register() -> None:
    register_before_scoring(_bring_rollups_up_to_date)
    register_source(MeasureSource("usage", columns=("usage_trend", "active_users"), query=_usage_sql))
    register_source(MeasureSource("breadth", columns=("breadth",), query=_breadth_sql))
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
