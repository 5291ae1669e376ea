"""Support's numbers from ticket rows, as pure functions (the selectors read the rows).

- time to first reply: the median business hours from opening to the first reply, over the tickets
  opened in the period that have one;
- time to fix: the median hours from opening to solved, in business hours (pauses left out) and in
  calendar hours (wall-clock, pauses included), over the tickets solved in the period;
- SLA compliance: the share of the tickets opened in the period under an SLA policy that have no
  breach (an open ticket counts as compliant until it breaches);
- backlog: the tickets not solved or closed, now and at the end of each month.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from statistics import median
from typing import Any

from django.utils import timezone


@dataclass(frozen=True)
class Row:
    priority: str
    tier: str
    opened_at: datetime
    solved_at: datetime | None
    first_reply_minutes: int | None
    resolution_minutes: int | None
    resolution_calendar_minutes: int | None
    breached: bool
    has_policy: bool


@dataclass
class Figures:
    key: str = ""
    label: str = ""
    opened: int = 0
    solved: int = 0
    open_now: int = 0
    first_reply_hours: float | None = None
    fix_hours: float | None = None
    fix_calendar_hours: float | None = None
    compliance: float | None = None  # percent
    under_sla: int = 0
    breached: int = 0
    backlog_at_end: int | None = None  # by month only
    month: date | None = None  # by month only: its first day


@dataclass
class Metrics:
    start: date
    end: date
    total: Figures
    by_priority: list[Figures] = field(default_factory=list)
    by_tier: list[Figures] = field(default_factory=list)
    by_month: list[Figures] = field(default_factory=list)


def _hours(minutes: list[int]) -> float | None:
    return round(median(minutes) / 60, 1) if minutes else None


def _local_day(moment: datetime) -> date:
    return timezone.localtime(moment).date()


def figures(rows: Iterable[Row], *, start: date, end: date, key: str = "", label: str = "") -> Figures:
    """The figures of `rows` over the days start..end (inclusive); `open_now` counts every open row."""
    out = Figures(key=key, label=label)
    first, fix, fix_calendar = [], [], []
    for row in rows:
        opened_in = start <= _local_day(row.opened_at) <= end
        solved_in = row.solved_at is not None and start <= _local_day(row.solved_at) <= end
        if row.solved_at is None:
            out.open_now += 1
        if opened_in:
            out.opened += 1
            if row.first_reply_minutes is not None:
                first.append(row.first_reply_minutes)
            if row.has_policy:
                out.under_sla += 1
                out.breached += row.breached
        if solved_in:
            out.solved += 1
            if row.resolution_minutes is not None:
                fix.append(row.resolution_minutes)
            if row.resolution_calendar_minutes is not None:
                fix_calendar.append(row.resolution_calendar_minutes)
    out.first_reply_hours = _hours(first)
    out.fix_hours = _hours(fix)
    out.fix_calendar_hours = _hours(fix_calendar)
    if out.under_sla:
        out.compliance = round(100 * (out.under_sla - out.breached) / out.under_sla, 1)
    return out


def month_starts(end: date, months: int) -> list[date]:
    first = end.replace(day=1)
    starts = [first]
    for _ in range(months - 1):
        previous = starts[-1]
        starts.append((previous - timedelta(days=1)).replace(day=1))
    return sorted(starts)


def _month_end(start: date) -> date:
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def _grouped(
    rows: list[Row],
    key: Callable[[Row], str],
    labels: dict[str, str],
    order: list[str],
    *,
    start: date,
    end: date,
) -> list[Figures]:
    groups: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        groups[key(row)].append(row)
    keys = [k for k in order if k in groups] + sorted(k for k in groups if k not in order)
    return [figures(groups[k], start=start, end=end, key=k, label=labels.get(k, k)) for k in keys]


def compute(
    rows: list[Row], *, today: date, months: int, priorities: list[tuple[str, Any]], tiers: list[str]
) -> Metrics:
    starts = month_starts(today, months)
    start, end = starts[0], today
    result = Metrics(start=start, end=end, total=figures(rows, start=start, end=end))
    result.by_priority = _grouped(
        rows,
        lambda r: r.priority,
        {k: str(v) for k, v in priorities},
        [k for k, _v in priorities],
        start=start,
        end=end,
    )
    result.by_tier = _grouped(rows, lambda r: r.tier, {}, tiers, start=start, end=end)
    for month in starts:
        last = min(_month_end(month), today)
        figures_of_month = figures(
            rows, start=month, end=last, key=month.isoformat(), label=month.isoformat()
        )
        figures_of_month.month = month
        figures_of_month.backlog_at_end = sum(
            1
            for r in rows
            if _local_day(r.opened_at) <= last and (r.solved_at is None or _local_day(r.solved_at) > last)
        )
        result.by_month.append(figures_of_month)
    return result
