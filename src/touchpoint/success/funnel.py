"""The success-gap funnel: how far the accounts of a framework got along its milestones, and where they stall.

Definitions (docs/success.md, "The success-gap funnel"):

- The accounts in the funnel: those whose placement's framework is this one (filtered by segment,
  owner and start cohort, and by what the reader may read). Their start is the placement's
  `started_on`, else the account's creation day.
- Steps are the framework's milestones in order (position, id). An account reaches step k on the day
  it has reached milestone k and every milestone before it (never before its start): the funnel is
  cumulative, so each step counts at most the accounts of the step before.
- Days from the previous step: the day it reached step k minus the day it reached step k-1 (for the
  first step, its start). Medians over the accounts that reached the step.
- Stalled before step k: reached step k-1 (or, for the first step, started) more than milestone k's
  `stall_after_days` ago, and not step k.
- The gap: the accounts that reached the last product milestone ("the product works") but not the
  outcome milestones after it ("the customer got what they bought it for").

Everything is computed in one SQL statement: a pivot of each account's reach days (one row per
account, built with the ORM so filters and time zones are Django's), then one small GROUP BY per step
over it giving (days from the previous step, stalled?, count). Medians come from those counts in
Python. The result is cached keyed on the latest change of the rows it reads (see `_change_marker`).
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, cast

from django.core.cache import cache
from django.db import connection
from django.db.models import F, Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from touchpoint.accounts.models import Account
from touchpoint.accounts.rules import readable_accounts_q
from touchpoint.success.models import (
    AccountPlacement,
    MilestoneDefinition,
    MilestoneKind,
    MilestoneReached,
    SuccessFramework,
)

MONTH = re.compile(r"^(\d{4})-(\d{2})$")
# The years the API contract accepts for any date (touchpoint.api_contract.FIRST_DAY/LAST_DAY).
FIRST_YEAR, LAST_YEAR = 1900, 2999
# A cached funnel is used for at most this long even when no change is seen (a bulk update or raw
# SQL that does not call `data_changed` moves no marker).
CACHE_SECONDS = 300


def parse_cohort(text: str) -> date | None:
    """A start cohort typed as YYYY-MM, as its first day; empty text is no cohort. ValueError if malformed."""
    text = (text or "").strip()
    if not text:
        return None
    match = MONTH.match(text)
    if not match or not 1 <= int(match[2]) <= 12 or not FIRST_YEAR <= int(match[1]) <= LAST_YEAR:
        raise ValueError(_("Give a start cohort as a month, YYYY-MM (e.g. 2026-03)."))
    return date(int(match[1]), int(match[2]), 1)


def _next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


@dataclass(frozen=True)
class FunnelFilter:
    """Which accounts of the framework count; `reader` limits them to what that person may read."""

    segment_id: int | None = None
    owner_id: int | None = None
    cohort: date | None = None  # the first day of the start month
    reader: Any = None

    def scope_key(self) -> str:
        """What the reader's limit depends on, for the cache key (everyone who reads all shares one)."""
        if self.reader is None:
            return "all"
        q = readable_accounts_q(self.reader)
        return "all" if not q else f"user{self.reader.pk}"


@dataclass
class FunnelStep:
    milestone: MilestoneDefinition
    index: int
    at_previous: int  # accounts that reached the step before (for the first: started)
    reached: int
    stalled: int
    median_days: float | None  # from the previous step (the first: from the start)
    conversion_from_previous: float | None
    conversion_from_start: float | None

    @property
    def is_outcome(self) -> bool:
        return self.milestone.kind == MilestoneKind.OUTCOME

    @property
    def waiting(self) -> int:
        """At the step before and not here yet, stalled or not (yet)."""
        return self.at_previous - self.reached


@dataclass
class FunnelGap:
    """Between the last product milestone and the outcome milestones after it."""

    product_step: FunnelStep  # the last product milestone
    outcome_steps: list[FunnelStep]  # the outcome milestones after it, in order
    median_days: float | None  # from the last product milestone to the first outcome after it

    @property
    def product_reached(self) -> int:
        return self.product_step.reached

    @property
    def outcome_reached(self) -> int:
        return self.outcome_steps[-1].reached

    @property
    def accounts(self) -> int:
        """Product works, outcome not (yet) reached."""
        return self.product_reached - self.outcome_reached

    @property
    def share(self) -> float | None:
        return None if not self.product_reached else self.accounts / self.product_reached


@dataclass
class Funnel:
    framework: SuccessFramework
    filters: FunnelFilter
    as_of: date
    started: int
    steps: list[FunnelStep] = field(default_factory=list)
    gap: FunnelGap | None = None
    from_cache: bool = False


def milestones_of(framework: SuccessFramework) -> list[MilestoneDefinition]:
    return list(MilestoneDefinition.objects.filter(framework=framework).order_by("position", "id"))


# --- SQL -------------------------------------------------------------------------------------------


def _in_funnel(framework: SuccessFramework, filters: FunnelFilter) -> QuerySet[AccountPlacement]:
    """The placements of the accounts the funnel counts, with `start_day` annotated."""
    placements = AccountPlacement.objects.filter(framework_id=framework.pk).annotate(
        start_day=Coalesce(F("started_on"), TruncDate("account__created_at"))
    )
    if filters.reader is not None:
        placements = placements.filter(readable_accounts_q(filters.reader, "account__"))
    if filters.segment_id is not None:
        placements = placements.filter(account__segment_id=filters.segment_id)
    if filters.owner_id is not None:
        placements = placements.filter(account__owner_id=filters.owner_id)
    if filters.cohort is not None:
        placements = placements.filter(
            start_day__gte=filters.cohort, start_day__lt=_next_month(filters.cohort)
        )
    return placements


def _pivot(framework: SuccessFramework, filters: FunnelFilter, milestones: Sequence[MilestoneDefinition]):
    """One row per account: account_id, start_day, d0..dN (the day it reached each milestone or NULL)."""
    reached = "account__milestones_reached"
    # Any: the stubs cannot know the `start_day` annotation.
    placements = cast("QuerySet[Any]", _in_funnel(framework, filters))
    return (
        placements.order_by()
        .values("account_id", "start_day")
        .annotate(
            **{
                f"d{i}": Max(f"{reached}__reached_on", filter=Q(**{f"{reached}__milestone_id": m.pk}))
                for i, m in enumerate(milestones)
            }
        )
    )


def _day_number(expression: str) -> str:
    """A date as a whole number of days (for differences that mean the same on both databases)."""
    if connection.vendor == "postgresql":
        return f"(({expression})::date - DATE '2000-01-01')"
    return f"CAST(julianday({expression}) AS INTEGER)"


def _greatest(expressions: list[str]) -> str:
    # SQLite's many-argument max() is the scalar greatest (NULL if any is); PostgreSQL calls it GREATEST.
    name = "GREATEST" if connection.vendor == "postgresql" else "MAX"
    return f"{name}({', '.join(expressions)})" if len(expressions) > 1 else expressions[0]


def _step_day(k: int) -> str:
    """The day (number) the account reached step k: NULL unless milestones 0..k are all reached."""
    if k < 0:
        return "s"
    days = [f"d{i}" for i in range(k + 1)]
    return f"(CASE WHEN {' AND '.join(f'{d} IS NOT NULL' for d in days)} THEN {_greatest(['s', *days])} END)"


def _funnel_rows(
    framework: SuccessFramework, filters: FunnelFilter, milestones: Sequence[MilestoneDefinition], as_of: date
) -> list[tuple[int, int | None, int, int]]:
    """(step, days from the previous step or NULL, stalled 0/1, accounts) in one statement."""
    pivot_sql, pivot_params = _pivot(framework, filters, milestones).query.sql_with_params()
    columns = ", ".join(
        [
            "account_id",
            f"{_day_number('start_day')} AS s",
            *(f"{_day_number(f'd{i}')} AS d{i}" for i in range(len(milestones))),
        ]
    )
    today = _day_number("%s")
    params: list[Any] = [*pivot_params]
    branches = []
    for k, milestone in enumerate(milestones or [None]):
        if milestone is None:  # no milestones: only the accounts that started
            branches.append("SELECT -1 AS step, NULL AS days, 0 AS stalled, COUNT(*) AS n FROM base")
            continue
        before, here = _step_day(k - 1), _step_day(k)
        branches.append(
            f"SELECT {k} AS step, days, stalled, COUNT(*) AS n FROM ("
            f"SELECT {here} - {before} AS days, "
            f"CASE WHEN {here} IS NULL AND {before} < {today} - %s THEN 1 ELSE 0 END AS stalled "
            f"FROM base WHERE {before} IS NOT NULL) AS step{k} GROUP BY days, stalled"
        )
        params += [as_of, milestone.stall_after_days]
    sql = f"WITH base AS MATERIALIZED (SELECT {columns} FROM ({pivot_sql}) AS pivot) " + " UNION ALL ".join(
        branches
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [
            (int(step), None if days is None else int(days), int(stalled), int(n))
            for step, days, stalled, n in cursor.fetchall()
        ]


VERSION_KEY = "success-funnel-version"


def data_changed(**_ignored: Any) -> None:
    """Tell the funnel its rows changed (connected to the ORM's save/delete signals of the rows it reads;
    writers that bypass them, bulk updates and raw SQL, call it themselves)."""
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # not set yet (or evicted): any new value differs from what the keys hold
        cache.set(VERSION_KEY, int(time.time() * 1000), None)


def _change_marker(milestones: Sequence[MilestoneDefinition]) -> str:
    """What changes when a row the funnel reads changes, read in O(1): the newest reach and placement
    ids (every insert, bulk ones included) and the version the save/delete signals bump (edits and
    deletes through the ORM). Two primary-key lookups and a cache read: the whole point of the cache
    is to answer without scanning."""
    marker = (
        MilestoneReached.objects.aggregate(last=Max("id"))["last"],
        AccountPlacement.objects.aggregate(last=Max("id"))["last"],
        cache.get(VERSION_KEY),
    )
    return repr(marker)


# --- Building the funnel --------------------------------------------------------------------------


def median_of_counts(counts: dict[int, int]) -> float | None:
    """The median of values given as {value: how many times}; None when there are none."""
    total = sum(counts.values())
    if total == 0:
        return None
    ordered = sorted(counts.items())

    def nth(position: int) -> int:  # 0-based
        seen = 0
        for value, n in ordered:
            seen += n
            if position < seen:
                return value
        raise IndexError(position)

    middle = total // 2
    return float(nth(middle)) if total % 2 else (nth(middle - 1) + nth(middle)) / 2


def _share(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole


def build_funnel(
    *,
    framework: SuccessFramework,
    milestones: Sequence[MilestoneDefinition],
    filters: FunnelFilter,
    as_of: date,
    rows: list[tuple[int, int | None, int, int]],
) -> Funnel:
    """The funnel from the statement's rows (pure: no queries)."""
    at_step: list[int] = [0] * len(milestones)
    reached: list[int] = [0] * len(milestones)
    stalled: list[int] = [0] * len(milestones)
    days: list[dict[int, int]] = [{} for _m in milestones]
    started = 0
    for step, day_count, is_stalled, n in rows:
        if step < 0:
            started += n
            continue
        at_step[step] += n
        stalled[step] += n * is_stalled
        if day_count is not None:
            reached[step] += n
            days[step][day_count] = days[step].get(day_count, 0) + n
    if milestones:
        started = at_step[0]
    steps = [
        FunnelStep(
            milestone=milestone,
            index=k,
            at_previous=at_step[k],
            reached=reached[k],
            stalled=stalled[k],
            median_days=median_of_counts(days[k]),
            conversion_from_previous=_share(reached[k], at_step[k]),
            conversion_from_start=_share(reached[k], started),
        )
        for k, milestone in enumerate(milestones)
    ]
    return Funnel(
        framework=framework, filters=filters, as_of=as_of, started=started, steps=steps, gap=_gap(steps)
    )


def _gap(steps: list[FunnelStep]) -> FunnelGap | None:
    product = [step for step in steps if not step.is_outcome]
    if not product:
        return None
    last_product = product[-1]
    outcomes = [step for step in steps[last_product.index + 1 :] if step.is_outcome]
    if not outcomes:
        return None
    # Every step after the last product milestone is an outcome: the first one's days count from it.
    return FunnelGap(product_step=last_product, outcome_steps=outcomes, median_days=outcomes[0].median_days)


def funnel(
    *, framework: SuccessFramework, filters: FunnelFilter, as_of: date | None = None, use_cache: bool = True
) -> Funnel:
    """The framework's funnel for the accounts the filters keep: reached, conversion, median days, stalled."""
    as_of = as_of or timezone.localdate()
    milestones = milestones_of(framework)
    key = None
    if use_cache:
        key = _cache_key(framework, milestones, filters, as_of)
        rows = cache.get(key)
        if rows is not None:
            found = build_funnel(
                framework=framework, milestones=milestones, filters=filters, as_of=as_of, rows=rows
            )
            found.from_cache = True
            return found
    rows = _funnel_rows(framework, filters, milestones, as_of)
    if key is not None:
        cache.set(key, rows, CACHE_SECONDS)
    return build_funnel(framework=framework, milestones=milestones, filters=filters, as_of=as_of, rows=rows)


def _cache_key(
    framework: SuccessFramework, milestones: Sequence[MilestoneDefinition], filters: FunnelFilter, as_of: date
) -> str:
    definition = [(m.pk, m.position, m.stall_after_days, m.kind) for m in milestones]
    parts = [
        framework.pk,
        definition,
        filters.segment_id,
        filters.owner_id,
        filters.cohort,
        filters.scope_key(),
        as_of,
        connection.settings_dict.get("NAME"),
        _change_marker(milestones),
    ]
    return "success-funnel:" + hashlib.sha256(repr(parts).encode()).hexdigest()


# --- Drill-down -------------------------------------------------------------------------------------


@dataclass
class StalledAccount:
    account: Account
    since: date  # the day it reached the previous step (or started)
    days: int
    health_grade: str | None

    @property
    def grade_label(self) -> str:
        from touchpoint.health.models import Grade

        return str(Grade(self.health_grade).label) if self.health_grade in Grade.values else ""


def stalled_accounts(
    *,
    framework: SuccessFramework,
    milestone: MilestoneDefinition,
    filters: FunnelFilter,
    as_of: date | None = None,
    limit: int = 50,
    offset: int = 0,
    use_cache: bool = True,
) -> list[StalledAccount]:
    """The accounts stalled before this milestone, longest stalled first, with owner and latest health grade."""
    from touchpoint.health.models import HealthScore  # success reads health; health never reads success

    as_of = as_of or timezone.localdate()
    milestones = milestones_of(framework)
    k = next(i for i, m in enumerate(milestones) if m.pk == milestone.pk)
    pivot_sql, pivot_params = _pivot(framework, filters, milestones[: k + 1]).query.sql_with_params()
    columns = ", ".join(
        [
            "account_id",
            f"{_day_number('start_day')} AS s",
            *(f"{_day_number(f'd{i}')} AS d{i}" for i in range(k + 1)),
        ]
    )
    before, here, today = _step_day(k - 1), _step_day(k), _day_number("%s")
    sql = (
        f"SELECT account_id, {today} - {before} AS days FROM (SELECT {columns} FROM ({pivot_sql}) AS pivot) AS base "
        f"WHERE {before} IS NOT NULL AND {here} IS NULL AND {before} < {today} - %s "
        f"ORDER BY days DESC, account_id LIMIT %s OFFSET %s"
    )
    params = [
        as_of,
        *pivot_params,
        as_of,
        milestone.stall_after_days,
        limit,
        offset,
    ]  # in the order they appear
    key = f"{_cache_key(framework, milestones, filters, as_of)}:stalled:{milestone.pk}:{limit}:{offset}"
    found = cache.get(key) if use_cache else None
    if found is None:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            found = [(int(account_id), int(days)) for account_id, days in cursor.fetchall()]
        cache.set(key, found, CACHE_SECONDS)
    latest = HealthScore.objects.filter(account_id=OuterRef("pk")).order_by("-day")
    accounts = Account.objects.select_related("owner").annotate(
        health_grade=Subquery(latest.values("grade")[:1])
    )
    by_id = {
        account.pk: account for account in accounts.filter(pk__in=[account_id for account_id, _d in found])
    }
    return [
        StalledAccount(
            account=by_id[account_id],
            since=date.fromordinal(as_of.toordinal() - days),
            days=days,
            health_grade=getattr(by_id[account_id], "health_grade", None),
        )
        for account_id, days in found
        if account_id in by_id
    ]
