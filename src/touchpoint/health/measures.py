"""The measures a scorecard weighs, as small pluggable pieces that compute in SQL for every account at once.

A *source* is one aggregate query that yields, for a day D, one row per account with one or more
columns; a *measure* is one column of one source, with a label, a unit and default thresholds.
Several measures share a source so the database scans each table once. Every source must read only
data as it was at the end of D (rollups of days ≤ D, timeline entries before D+1, subscription state
from its movements up to D): the back-test scores past days with the same SQL.

A later app adds its own (support load, NPS…) from its AppConfig.ready():

    from touchpoint.health.measures import Measure, MeasureSource, register_measure, register_source

    register_source(MeasureSource("support", columns=("open_tickets",), query=open_tickets_sql))
    register_measure(Measure("support_load", label=_("Open tickets"), source="support",
                             column="open_tickets", unit=_("tickets"), weight=1, green=0, red=5))

An account a source returns no row for, or a NULL column, has that measure *unknown* that day.
A source may read the CTE `live_subscriptions` (id, account_id, quantity, renewal_date,
term_months, status: the subscriptions live at the end of D), computed once per statement.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import connection
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

USAGE_WINDOW_DAYS = 90  # an account with no usage rollups in this window has no usage data
RECENT_DAYS = 30  # "last 30 days"; the trend compares it with the 30 days before


@dataclass(frozen=True)
class AsOf:
    """The day a score is for, with helpers that put its dates into SQL for the current database."""

    day: date

    @property
    def vendor(self) -> str:
        return connection.vendor

    def date(self, days_before: int = 0):
        return connection.ops.adapt_datefield_value(self.day - timedelta(days=days_before))

    @property
    def end(self):
        """The first moment after the day, in the site's time zone (timeline entries before it count)."""
        moment = timezone.make_aware(datetime.combine(self.day + timedelta(days=1), time.min))
        return connection.ops.adapt_datetimefield_value(moment)

    def as_float(self, expression: str) -> str:
        return f"CAST({expression} AS {'REAL' if self.vendor == 'sqlite' else 'double precision'})"

    def days_between_dates(self, later: str, earlier: str) -> str:
        if self.vendor == "sqlite":
            return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"
        return f"({later} - {earlier})"

    def days_since(self, moment: str) -> str:
        """Whole days from a timestamp expression to the end of the day (a touch today is day 0)."""
        if self.vendor == "sqlite":
            return f"CAST(julianday(%s) - julianday({moment}) AS INTEGER)"
        return f"FLOOR(EXTRACT(EPOCH FROM (%s - {moment})) / 86400)"


SqlBuilder = Callable[[AsOf], tuple[str, list]]


@dataclass(frozen=True)
class MeasureSource:
    key: str
    columns: tuple[str, ...]
    query: SqlBuilder  # SELECT account_id, <columns…> … (one row per account at most)


@dataclass(frozen=True)
class Measure:
    key: str
    label: str | Promise
    source: str
    column: str
    unit: str | Promise
    help: str | Promise = ""
    # Defaults for a new scorecard. Points go linearly from 0 at `red` to 100 at `green`; green may be
    # below red (fewer days since the last touch is better).
    weight: float = 1.0
    green: float = 100.0
    red: float = 0.0


_SOURCES: dict[str, MeasureSource] = {}
_MEASURES: dict[str, Measure] = {}


def register_source(source: MeasureSource) -> MeasureSource:
    _SOURCES[source.key] = source
    return source


def register_measure(measure: Measure) -> Measure:
    if measure.source not in _SOURCES or measure.column not in _SOURCES[measure.source].columns:
        raise ValueError(f"measure {measure.key}: no column {measure.column!r} in source {measure.source!r}")
    _MEASURES[measure.key] = measure
    return measure


def registered_measures() -> list[Measure]:
    return list(_MEASURES.values())


def get_measure(key: str) -> Measure | None:
    return _MEASURES.get(key)


def sources_sql(at: AsOf, keys: list[str] | None = None) -> tuple[str, list, list[Measure]]:
    """CTEs `live_subscriptions` and `src_<source>` for the measures asked (all when None).

    Returns the text after `WITH` (without it), its parameters, and the measures it covers; a measure's
    value is `src_<measure.source>.<measure.column>`, joined on `account_id`.
    """
    measures = [m for m in _MEASURES.values() if keys is None or m.key in keys]
    sources = sorted({m.source for m in measures})
    # Shared by every source (and the back-test): computed once per statement.
    live, params = live_subscriptions_sql(at)
    marks, marks_params = timeline_marks_sql(at)
    parts: list[str] = [f"{LIVE_SUBSCRIPTIONS} AS ({live})", f"{TIMELINE_MARKS} AS ({marks})"]
    params.extend(marks_params)
    for key in sources:
        sql, source_params = _SOURCES[key].query(at)
        parts.append(f"src_{key} AS ({sql})")
        params.extend(source_params)
    return ",\n".join(parts), params, measures


def source_joins(measures: list[Measure], account: str = "a.id") -> str:
    return " ".join(
        f"LEFT JOIN src_{key} ON src_{key}.account_id = {account}"
        for key in sorted({m.source for m in measures})
    )


def measured_sql(at: AsOf, keys: list[str] | None = None) -> tuple[str, list]:
    """CTEs ending in `measured(account_id, measure, value)`: one row per known (account, measure).

    Returns the text after `WITH` (without it) so callers add their own CTEs and final statement.
    """
    sources, params, measures = sources_sql(at, keys)
    unions = [
        f"SELECT account_id, '{m.key}' AS measure, {at.as_float(m.column)} AS value "
        f"FROM src_{m.source} WHERE {m.column} IS NOT NULL"
        for m in measures
    ] or ["SELECT NULL AS account_id, NULL AS measure, NULL AS value WHERE 1 = 0"]
    return sources + ",\nmeasured AS (" + " UNION ALL ".join(unions) + ")", params


# --- The built-in sources -------------------------------------------------------------------------------

# The names of the shared CTEs any source may read: the subscriptions live at the end of the day, and
# per account the last human touch, failed payment and recovered payment before the day ended.
LIVE_SUBSCRIPTIONS = "live_subscriptions"
TIMELINE_MARKS = "timeline_marks"


def timeline_marks_sql(at: AsOf) -> tuple[str, list]:
    """One scan of the timeline: per account, the last human touch and the last payment failure/recovery."""
    kinds = human_touch_kinds() or ["note"]
    marks = ", ".join(["%s"] * len(kinds))
    sql = f"""
        SELECT account_id,
               MAX(CASE WHEN kind IN ({marks}) THEN occurred_at END) AS last_touch,
               MAX(CASE WHEN kind = 'payment_failed' THEN occurred_at END) AS last_failed,
               MAX(CASE WHEN kind = 'payment_recovered' THEN occurred_at END) AS last_recovered
        FROM accounts_timelineentry
        WHERE occurred_at < %s AND kind IN ({marks}, 'payment_failed', 'payment_recovered')
        GROUP BY account_id
    """
    return sql, [*kinds, at.end, *kinds]


def live_subscriptions_sql(at: AsOf) -> tuple[str, list]:
    """Subscriptions live at the end of the day: the last movement up to it left MRR above zero.

    A subscription without any movement (entered before revenue history was kept) counts from its
    start date until it was canceled.
    """
    sql = """
        SELECT s.id, s.account_id, s.quantity, s.renewal_date, s.term_months, s.status
        FROM revenue_subscription s
        WHERE s.started_on <= %s AND (
            (SELECT m.mrr_after FROM revenue_mrrmovement m
             WHERE m.subscription_id = s.id AND m.occurred_on <= %s
             ORDER BY m.occurred_on DESC, m.id DESC LIMIT 1) > 0
            OR (NOT EXISTS (SELECT 1 FROM revenue_mrrmovement m WHERE m.subscription_id = s.id)
                AND (s.canceled_on IS NULL OR s.canceled_on > %s) AND s.status <> 'canceled'))
    """
    return sql, [at.date(), at.date(), at.date()]


def _usage_sql(at: AsOf) -> tuple[str, list]:
    sql = f"""
        SELECT u.account_id,
               CASE WHEN u.previous > 0 THEN 100.0 * (u.recent - u.previous) / u.previous END AS usage_trend,
               CASE WHEN COALESCE(seats.n, contacts.n, 0) > 0
                    THEN 100.0 * u.peak_users / COALESCE(seats.n, contacts.n) END AS active_users
        FROM (
            SELECT account_id,
                   SUM(CASE WHEN day >= %s THEN events ELSE 0 END) AS recent,
                   SUM(CASE WHEN day >= %s AND day < %s THEN events ELSE 0 END) AS previous,
                   MAX(CASE WHEN day >= %s THEN active_users ELSE 0 END) AS peak_users
            FROM usage_dailyaccountrollup
            WHERE day > %s AND day <= %s
            GROUP BY account_id
        ) u
        LEFT JOIN (SELECT account_id, NULLIF(SUM(quantity), 0) AS n FROM {LIVE_SUBSCRIPTIONS} GROUP BY account_id) seats
               ON seats.account_id = u.account_id
        LEFT JOIN (SELECT account_id, COUNT(*) AS n FROM accounts_contact WHERE created_at < %s
                   GROUP BY account_id) contacts
               ON contacts.account_id = u.account_id
    """
    recent_start = at.date(RECENT_DAYS - 1)
    previous_start = at.date(2 * RECENT_DAYS - 1)
    params = [
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
    sql = """
        SELECT r.account_id,
               100.0 * COUNT(DISTINCT CASE WHEN r.day >= %s THEN k.event END)
                     / (SELECT COUNT(*) FROM usage_keyfeature) AS breadth
        FROM usage_dailyeventrollup r
        LEFT JOIN usage_keyfeature k ON k.event = r.event
        WHERE r.day > %s AND r.day <= %s AND EXISTS (SELECT 1 FROM usage_keyfeature)
        GROUP BY r.account_id
    """
    return sql, [at.date(RECENT_DAYS - 1), at.date(USAGE_WINDOW_DAYS), at.date()]


def human_touch_kinds() -> list[str]:
    from touchpoint.accounts.timeline import registered_kinds

    return sorted(kind.value for kind in registered_kinds() if kind.is_human_touch)


def _touch_sql(at: AsOf) -> tuple[str, list]:
    sql = f"""
        SELECT account_id, {at.days_since("last_touch")} AS days_since_touch
        FROM {TIMELINE_MARKS} WHERE last_touch IS NOT NULL
    """
    return sql, [at.end]


def _revenue_sql(at: AsOf) -> tuple[str, list]:
    today = timezone.localdate()
    # Past due: the last payment entry on the timeline before the day ended was a failure; for today
    # also a live subscription whose status says so (billing systems that only send the status).
    status_check = (
        "OR MAX(CASE WHEN live.status = 'past_due' THEN 1 ELSE 0 END) = 1" if at.day >= today else ""
    )
    next_renewal = at.days_between_dates("live.renewal_date", "%s")
    term_days = "(live.term_months * 365 / 12)"
    sql = f"""
        SELECT live.account_id,
               CASE WHEN (MAX(pay.last_failed) IS NOT NULL
                          AND (MAX(pay.last_recovered) IS NULL OR MAX(pay.last_recovered) < MAX(pay.last_failed)))
                         {status_check}
                    THEN 1 ELSE 0 END AS past_due,
               MIN(CASE WHEN live.renewal_date >= %s THEN {next_renewal} %% {term_days} END) AS days_to_renewal
        FROM {LIVE_SUBSCRIPTIONS} live
        LEFT JOIN {TIMELINE_MARKS} pay ON pay.account_id = live.account_id
        GROUP BY live.account_id
    """
    return sql, [at.date(), at.date()]


register_source(MeasureSource("usage", columns=("usage_trend", "active_users"), query=_usage_sql))
register_source(MeasureSource("breadth", columns=("breadth",), query=_breadth_sql))
register_source(MeasureSource("touch", columns=("days_since_touch",), query=_touch_sql))
register_source(MeasureSource("revenue", columns=("past_due", "days_to_renewal"), query=_revenue_sql))

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
    )
)
register_measure(
    Measure(
        "active_users",
        label=_("Active users"),
        source="usage",
        column="active_users",
        unit="%",
        help=_("Most people active on one day in the last 30 days, against seats paid for (or contacts)."),
        weight=2,
        green=50,
        red=10,
    )
)
register_measure(
    Measure(
        "engagement_recency",
        label=_("Engagement recency"),
        source="touch",
        column="days_since_touch",
        unit=_("days"),
        help=_("Days since the last note, meeting, call or email."),
        weight=1,
        green=14,
        red=90,
    )
)
register_measure(
    Measure(
        "billing",
        label=_("Billing status"),
        source="revenue",
        column="past_due",
        unit="",
        help=_("Whether a payment is past due (1) or not (0)."),
        weight=2,
        green=0,
        red=1,
    )
)
register_measure(
    Measure(
        "renewal_proximity",
        label=_("Renewal proximity"),
        source="revenue",
        column="days_to_renewal",
        unit=_("days"),
        help=_("Days until the next renewal: the nearer, the less time to fix what is wrong."),
        weight=1,
        green=120,
        red=30,
    )
)
