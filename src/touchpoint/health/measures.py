"""The measures a scorecard weighs, as small pluggable pieces that compute in SQL for every account at once.

A *source* is one aggregate query that yields, for a day D, one row per account with one or more
columns; a *measure* is one column of one source, with a label, a unit and default thresholds.
Several measures share a source so the database scans each table once. Every source must read only
data as it was at the end of D (rollups of days ≤ D, timeline entries before D+1, subscription state
from its movements up to D): the back-test scores past days with the same SQL.

The app that owns the data provides the measure: usage, revenue and others register theirs from their
AppConfig.ready() (see usage/health_measures.py and revenue/health_measures.py); health itself knows
only the account timeline. A later app adds its own (support load, NPS…) the same way:

    from touchpoint.health.measures import Measure, MeasureSource, register_measure, register_source

    register_source(MeasureSource("support", columns=("open_tickets",), query=open_tickets_sql))
    register_measure(Measure("support_load", label=_("Open tickets"), source="support",
                             column="open_tickets", unit=_("tickets"), weight=1, green=0, red=5))

An account a source returns no row for, or a NULL column, has that measure *unknown* that day.

Shared CTEs are computed once per statement and any source may read them by name:
- `timeline_marks`: per account, the last time each registered mark happened on the timeline before
  the day ended (`register_timeline_mark`: health adds `last_touch`, revenue its payment marks), so the
  timeline is scanned once whatever the number of measures reading it.
- whatever apps add with `register_shared_cte`, e.g. `live_subscriptions` (id, account_id, quantity,
  renewal_date, term_months, status) from revenue. A source that reads a shared CTE another app provides
  checks `has_shared_cte(name)` first, so it still works when that app is not installed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from django.db import connection
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


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
    # The demo step that writes what the query reads: the health demo step scores history after it.
    demo_step: str = ""


@dataclass(frozen=True)
class Measure:
    key: str
    label: StrOrPromise
    source: str
    column: str
    unit: str | Promise
    help: str | Promise = ""
    # Defaults for a new scorecard. Points go linearly from 0 at `red` to 100 at `green`; green may be
    # below red (fewer days since the last touch is better).
    weight: float = 1.0
    green: float = 100.0
    red: float = 0.0
    # Where the measure stands in lists (forms, explanations, a new scorecard): apps register in the
    # order Django loads them, which is not the order people read them in.
    position: int = 100
    # Whether a value of this measure is data about how the customer is doing. Tenure is known for
    # every account from its first day: it shapes the score but alone is no reason to give one.
    evidence: bool = True


@dataclass(frozen=True)
class TimelineMark:
    column: str
    kinds: Callable[[], list[str]]  # timeline kinds that count as this mark (asked when the SQL is built)


_SOURCES: dict[str, MeasureSource] = {}
_MEASURES: dict[str, Measure] = {}
_SHARED_CTES: dict[str, SqlBuilder] = {}
_TIMELINE_MARKS: dict[str, TimelineMark] = {}
_BEFORE_SCORING: list[Callable[[], object]] = []
# Name of the shared CTE of the marks; the columns are the registered marks' columns.
TIMELINE_MARKS = "timeline_marks"
# The documented name of the shared CTE of subscriptions live at the end of the day (revenue provides it).
LIVE_SUBSCRIPTIONS = "live_subscriptions"


def register_shared_cte(name: str, query: SqlBuilder) -> None:
    """A CTE any source may read by `name`, computed once per statement (e.g. live subscriptions)."""
    _SHARED_CTES[name] = query


def has_shared_cte(name: str) -> bool:
    return name in _SHARED_CTES


def register_timeline_mark(column: str, *, kinds: Callable[[], list[str]]) -> None:
    """A column of `timeline_marks`: the last `occurred_at` of these kinds before the day ended."""
    _TIMELINE_MARKS[column] = TimelineMark(column=column, kinds=kinds)


LossSource = Callable[[date, date], Iterable[tuple[int, date]]]
_LOSS_SOURCES: list[LossSource] = []


def register_loss_source(losses: LossSource) -> None:
    """What the back-test predicts: `losses(after, until)` yields (account_id, day) of each churn or
    contraction in (after, until]. Revenue provides it; with none registered there is nothing to test."""
    _LOSS_SOURCES.append(losses)


def losses_between(after: date, until: date) -> list[tuple[int, date]]:
    return [loss for source in _LOSS_SOURCES for loss in source(after, until)]


def register_before_scoring(prepare: Callable[[], object]) -> None:
    """Work that must be done before scores are computed (e.g. bring usage rollups up to date)."""
    _BEFORE_SCORING.append(prepare)


def prepare_for_scoring() -> None:
    for prepare in _BEFORE_SCORING:
        prepare()


def register_source(source: MeasureSource) -> MeasureSource:
    _SOURCES[source.key] = source
    return source


def register_measure(measure: Measure) -> Measure:
    if measure.source not in _SOURCES or measure.column not in _SOURCES[measure.source].columns:
        raise ValueError(f"measure {measure.key}: no column {measure.column!r} in source {measure.source!r}")
    _MEASURES[measure.key] = measure
    return measure


def registered_sources() -> list[MeasureSource]:
    return list(_SOURCES.values())


def registered_measures() -> list[Measure]:
    return sorted(_MEASURES.values(), key=lambda measure: measure.position)


def get_measure(key: str) -> Measure | None:
    return _MEASURES.get(key)


def sources_sql(at: AsOf, keys: list[str] | None = None) -> tuple[str, list, list[Measure]]:
    """CTEs `live_subscriptions` and `src_<source>` for the measures asked (all when None).

    Returns the text after `WITH` (without it), its parameters, and the measures it covers; a measure's
    value is `src_<measure.source>.<measure.column>`, joined on `account_id`.
    """
    measures = [m for m in registered_measures() if keys is None or m.key in keys]
    sources = sorted({m.source for m in measures})
    # Shared by every source (and the back-test): computed once per statement.
    parts: list[str] = []
    params: list = []
    for name, shared in _SHARED_CTES.items():
        sql, shared_params = shared(at)
        parts.append(f"{name} AS ({sql})")
        params.extend(shared_params)
    marks, marks_params = timeline_marks_sql(at)
    parts.append(f"{TIMELINE_MARKS} AS ({marks})")
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


# --- Health's own source: the account timeline ---------------------------------------------------


def timeline_marks_sql(at: AsOf) -> tuple[str, list]:
    """One scan of the timeline: per account, the last time of each registered mark before the day ended."""
    from touchpoint.accounts.models import TimelineEntry

    columns: list[str] = []
    params: list = []
    every_kind: list[str] = []
    for mark in _TIMELINE_MARKS.values():
        kinds = mark.kinds() or ["-"]  # no kind registered: the mark never happens
        columns.append(
            f"MAX(CASE WHEN kind IN ({', '.join(['%s'] * len(kinds))}) THEN occurred_at END) AS {mark.column}"
        )
        params.extend(kinds)
        every_kind.extend(kinds)
    if not columns:
        return "SELECT NULL AS account_id WHERE 1 = 0", []
    sql = f"""
        SELECT account_id, {", ".join(columns)}
        FROM {TimelineEntry._meta.db_table}
        WHERE occurred_at < %s AND kind IN ({", ".join(["%s"] * len(every_kind))})
        GROUP BY account_id
    """
    return sql, [*params, at.end, *every_kind]


def human_touch_kinds() -> list[str]:
    from touchpoint.accounts.timeline import registered_kinds

    return sorted(kind.value for kind in registered_kinds() if kind.is_human_touch)


def _touch_sql(at: AsOf) -> tuple[str, list]:
    sql = f"""
        SELECT account_id, {at.days_since("last_touch")} AS days_since_touch
        FROM {TIMELINE_MARKS} WHERE last_touch IS NOT NULL
    """
    return sql, [at.end]


register_timeline_mark("last_touch", kinds=human_touch_kinds)
register_source(MeasureSource("touch", columns=("days_since_touch",), query=_touch_sql))
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
        position=40,
    )
)


def _tenure_sql(at: AsOf) -> tuple[str, list]:
    # Customer since: the account's created_at, which an import sets to the real start date.
    from touchpoint.accounts.models import Account

    sql = f"""
        SELECT id AS account_id, {at.days_since("created_at")} AS tenure_days
        FROM {Account._meta.db_table} WHERE created_at < %s
    """
    return sql, [at.end, at.end]


register_source(MeasureSource("tenure", columns=("tenure_days",), query=_tenure_sql))
register_measure(
    Measure(
        "tenure",
        label=_("Tenure"),
        source="tenure",
        column="tenure_days",
        unit=_("days"),
        help=_("Days since the account became a customer: the first months carry the most churn."),
        weight=1,
        green=365,
        red=60,
        position=5,
        evidence=False,
    )
)


def evidence_measures() -> frozenset[str]:
    """Keys of the measures whose value counts as data about the account (see `Measure.evidence`)."""
    return frozenset(key for key, measure in _MEASURES.items() if measure.evidence)
