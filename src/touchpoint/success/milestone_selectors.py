"""Reads about milestones: an account's milestones, and time to value across accounts.

Time to value counts days from an account's start (`account_start_dates`) to its first-value
milestone, and between consecutive milestones of a framework (in the framework's order). The
numbers (median, p75, a histogram) are pure functions at the bottom, tested as properties.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from django.db.models import F, Min, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from touchpoint.accounts.models import Account
from touchpoint.success.milestones import walkers_q
from touchpoint.success.models import MilestoneDefinition, MilestoneReached, SuccessFramework

# Histogram buckets of days: (lowest, highest) inclusive; None: no upper end.
BUCKETS: tuple[tuple[int, int | None], ...] = (
    (0, 7),
    (8, 14),
    (15, 30),
    (31, 60),
    (61, 90),
    (91, 180),
    (181, None),
)


# --- Start dates ----------------------------------------------------------------------------------


def account_start_dates(account_ids: Iterable[int] | None = None) -> dict[int, date]:
    """{account id: the day its journey started}: the placement's `started_on` when set, else the
    first subscription's start, else the day the account was created (one query)."""
    accounts = Account.objects.order_by()
    if account_ids is not None:
        accounts = accounts.filter(pk__in=list(account_ids))
    rows = accounts.annotate(
        placed=F("placement__started_on"),
        first_subscription=Min("subscriptions__started_on"),
        created_day=TruncDate("created_at", tzinfo=timezone.get_current_timezone()),
    ).values_list("pk", "placed", "first_subscription", "created_day")
    return {pk: placed or first or created for pk, placed, first, created in rows}


# --- One account ----------------------------------------------------------------------------------


@dataclass
class AccountMilestone:
    milestone: MilestoneDefinition
    reach: MilestoneReached | None
    days_from_start: int | None


def account_milestones(account: Account, framework: SuccessFramework | None) -> list[AccountMilestone]:
    """The framework's milestones in order, each with the account's reach (or None) — two queries."""
    if framework is None:
        return []
    definitions = list(MilestoneDefinition.objects.filter(framework=framework).order_by("position", "id"))
    reaches = {
        r.milestone_id: r
        for r in MilestoneReached.objects.filter(
            account=account, milestone__framework=framework
        ).select_related("confirmed_by_contact", "recorded_by")
    }
    start = account_start_dates([account.pk]).get(account.pk)
    return [
        AccountMilestone(
            milestone=m,
            reach=reaches.get(m.pk),
            days_from_start=(reaches[m.pk].reached_on - start).days if m.pk in reaches and start else None,
        )
        for m in definitions
    ]


def framework_of(account: Account) -> SuccessFramework | None:
    """The framework the account walks: its placement's, else the one its segment or the default gives."""
    from touchpoint.success.services import placement_of

    placement = placement_of(account)
    if placement is not None and placement.framework_id is not None:
        return placement.framework
    if account.segment_id is not None:
        by_segment = SuccessFramework.objects.filter(segments=account.segment_id).order_by("name").first()
        if by_segment is not None:
            return by_segment
    return SuccessFramework.objects.filter(is_default=True).first()


# --- Time to value --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bucket:
    low: int
    high: int | None
    count: int


@dataclass(frozen=True)
class Stats:
    count: int
    median: float | None
    p75: float | None
    histogram: tuple[Bucket, ...]


@dataclass(frozen=True)
class Step:
    """Days from one milestone (None: the start) to the next, over accounts that reached both."""

    milestone: MilestoneDefinition
    previous: MilestoneDefinition | None
    stats: Stats


@dataclass
class TimeToValue:
    framework: SuccessFramework
    first_value: MilestoneDefinition | None
    accounts: int  # accounts walking the framework (after the filters)
    reached: int  # of them, how many reached first value
    overall: Stats
    by_segment: list[tuple[str, Stats]] = field(default_factory=list)
    by_cohort: list[tuple[date, Stats]] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)


def parse_cohort(text: str) -> date | None:
    """A start cohort "YYYY-MM" as the month's first day; None when it is not one."""
    try:
        year, month = (int(part) for part in text.split("-"))
        if not 1900 <= year <= 2999:
            return None
        return date(year, month, 1)
    except (ValueError, TypeError):
        return None


def time_to_value(
    *,
    framework: SuccessFramework,
    segment_id: int | None = None,
    cohort: date | None = None,
    accounts_q: Q | None = None,
) -> TimeToValue:
    """Time to first value (and between milestones) for the accounts walking `framework`.

    `cohort` keeps accounts that started in that month; `accounts_q` narrows to what the reader may
    read. Three queries: the accounts with their segments, their start dates, the reaches.
    """
    accounts = Account.objects.filter(walkers_q(framework)).order_by()
    if accounts_q is not None:
        accounts = accounts.filter(accounts_q)
    if segment_id is not None:
        accounts = accounts.filter(segment_id=segment_id)
    segment_of = dict(accounts.values_list("pk", "segment__name"))
    starts = account_start_dates(segment_of.keys()) if len(segment_of) < 5_000 else account_start_dates()
    if cohort is not None:
        segment_of = {
            pk: name
            for pk, name in segment_of.items()
            if (s := starts.get(pk)) and s.replace(day=1) == cohort
        }
    milestones = list(framework.milestones.order_by("position", "id"))
    first_value = next((m for m in milestones if m.is_first_value), None)
    reached_on: dict[int, dict[int, date]] = defaultdict(dict)  # milestone id -> account id -> day
    rows = MilestoneReached.objects.filter(milestone__framework=framework).values_list(
        "milestone_id", "account_id", "reached_on"
    )
    for milestone_id, account_id, day in rows.iterator(chunk_size=5000):
        if account_id in segment_of:
            reached_on[milestone_id][account_id] = day

    def days_to(milestone: MilestoneDefinition, since: MilestoneDefinition | None) -> dict[int, int]:
        ends = reached_on.get(milestone.pk, {})
        begins = starts if since is None else reached_on.get(since.pk, {})
        return {pk: max(0, (end - begins[pk]).days) for pk, end in ends.items() if pk in begins}

    first = days_to(first_value, None) if first_value is not None else {}
    by_segment: dict[str, list[int]] = defaultdict(list)
    by_cohort: dict[date, list[int]] = defaultdict(list)
    for pk, days in first.items():
        by_segment[segment_of[pk] or ""].append(days)
        by_cohort[starts[pk].replace(day=1)].append(days)
    steps = [
        Step(milestone=m, previous=prev, stats=stats_of(days_to(m, prev).values()))
        for prev, m in zip([None, *milestones[:-1]], milestones, strict=True)
    ]
    return TimeToValue(
        framework=framework,
        first_value=first_value,
        accounts=len(segment_of),
        reached=len(first),
        overall=stats_of(first.values()),
        by_segment=sorted(((name, stats_of(v)) for name, v in by_segment.items()), key=lambda pair: pair[0]),
        by_cohort=sorted(((month, stats_of(v)) for month, v in by_cohort.items()), key=lambda pair: pair[0]),
        steps=steps,
    )


def cohorts_of(framework: SuccessFramework) -> list[date]:
    """The start months of the accounts walking the framework, newest first (for the picker)."""
    ids = Account.objects.filter(walkers_q(framework)).order_by().values_list("pk", flat=True)
    return sorted({start.replace(day=1) for start in account_start_dates(ids).values()}, reverse=True)


# --- The numbers ---------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0–100) of the values by linear interpolation between the closest ranks
    (numpy's default); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def histogram(values: Iterable[int]) -> tuple[Bucket, ...]:
    counts = [0] * len(BUCKETS)
    for value in values:
        for i, (low, high) in enumerate(BUCKETS):
            if value >= low and (high is None or value <= high):
                counts[i] += 1
                break
    return tuple(Bucket(low, high, n) for (low, high), n in zip(BUCKETS, counts, strict=True))


def stats_of(values: Iterable[int]) -> Stats:
    days = list(values)
    return Stats(
        count=len(days), median=percentile(days, 50), p75=percentile(days, 75), histogram=histogram(days)
    )
