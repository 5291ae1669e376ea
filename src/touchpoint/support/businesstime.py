"""Business-time arithmetic: pure functions over a working calendar, no database.

    calendar = Calendar(time_zone="Europe/Berlin", working_days=frozenset({0, 1, 2, 3, 4}),
                        open_minute=9 * 60, close_minute=17 * 60, holidays=frozenset({date(2026, 12, 25)}))
    due = add_business_time(calendar, opened_at, timedelta(hours=8))      # the moment 8 working hours pass
    spent = business_time_between(calendar, opened_at, replied_at)         # working time in between

A working day is a local date of the calendar's time zone that is one of its weekdays (Monday is 0)
and not a holiday; its working hours run from `open_minute` to `close_minute` after local midnight
(1440 is the next midnight, so 0–1440 is round the clock). The local wall times are turned into
instants with the time zone's rules, so a working day of 9 to 17 is eight hours on the days clocks
change too, and a round-the-clock day is 23 or 25 hours then. A wall time that does not exist (in
the spring-forward gap) is read with the offset before the change, as zoneinfo does.

`excluded` are periods (start, end) that do not count even inside working hours: a ticket's pauses
while it waits on the customer. Every datetime given must be timezone-aware; results are in UTC.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

MAX_DAYS = 366 * 30  # how far a search walks before it gives up (a calendar with no working day left)
ZERO = timedelta(0)


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@dataclass(frozen=True)
class Calendar:
    time_zone: str = "UTC"
    working_days: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    open_minute: int = 9 * 60
    close_minute: int = 17 * 60
    holidays: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if not self.working_days or not self.working_days <= set(range(7)):
            raise ValueError("working_days must be a non-empty set of weekdays 0-6")
        if not 0 <= self.open_minute < self.close_minute <= 1440:
            raise ValueError("open_minute must be before close_minute, both within 0-1440")
        _zone(self.time_zone)  # raises for an unknown name

    @property
    def hours_per_day(self) -> float:
        return (self.close_minute - self.open_minute) / 60

    def is_working_day(self, day: date) -> bool:
        return day.weekday() in self.working_days and day not in self.holidays


ROUND_THE_CLOCK = Calendar(working_days=frozenset(range(7)), open_minute=0, close_minute=1440)


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("business time needs timezone-aware datetimes")
    return moment.astimezone(UTC)


def _local_instant(day: date, minute: int, zone: ZoneInfo) -> datetime:
    wall = datetime.combine(day, time()) + timedelta(minutes=minute)
    return wall.replace(tzinfo=zone).astimezone(UTC)


def working_periods(calendar: Calendar, start: datetime) -> Iterator[tuple[datetime, datetime]]:
    """The calendar's working periods (UTC start, UTC end), in order, from the one around `start` on.

    Raises ValueError after MAX_DAYS days without one (every working day a holiday, say)."""
    zone = _zone(calendar.time_zone)
    start = _utc(start)
    day = start.astimezone(zone).date() - timedelta(days=1)
    idle = 0
    while True:
        if calendar.is_working_day(day):
            idle = 0
            opens = _local_instant(day, calendar.open_minute, zone)
            closes = max(opens, _local_instant(day, calendar.close_minute, zone))
            if closes > start and closes > opens:
                yield opens, closes
        else:
            idle += 1
            if idle > MAX_DAYS:
                raise ValueError("the calendar has no working time left")
        if day >= date.max - timedelta(days=2):
            raise ValueError("past the last representable day")
        day += timedelta(days=1)


def _normalised(excluded: Iterable[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Excluded periods in UTC, sorted and merged, empty ones dropped."""
    periods = sorted((_utc(a), _utc(b)) for a, b in excluded if _utc(b) > _utc(a))
    merged: list[tuple[datetime, datetime]] = []
    for a, b in periods:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def _subtract(
    period: tuple[datetime, datetime], excluded: Sequence[tuple[datetime, datetime]]
) -> Iterator[tuple[datetime, datetime]]:
    a, b = period
    for ea, eb in excluded:
        if eb <= a:
            continue
        if ea >= b:
            break
        if ea > a:
            yield a, ea
        a = max(a, eb)
        if a >= b:
            return
    if a < b:
        yield a, b


def _counting_periods(
    calendar: Calendar, start: datetime, excluded: Iterable[tuple[datetime, datetime]]
) -> Iterator[tuple[datetime, datetime]]:
    """Working periods from `start` on, minus the excluded ones, clipped to begin at `start`."""
    start = _utc(start)
    cut = _normalised(excluded)
    for opens, closes in working_periods(calendar, start):
        for a, b in _subtract((max(opens, start), closes), cut):
            if b > a:
                yield a, b


def add_business_time(
    calendar: Calendar,
    start: datetime,
    amount: timedelta,
    excluded: Iterable[tuple[datetime, datetime]] = (),
) -> datetime:
    """The first moment by which `amount` of working time has passed since `start` (UTC).

    A zero amount is `start` itself; an amount that ends exactly at closing time gives the closing
    time (not the next opening). Excluded periods extending to infinity are the caller's to avoid."""
    if amount < ZERO:
        raise ValueError("amount must not be negative")
    start = _utc(start)
    if amount == ZERO:
        return start
    remaining = amount
    for a, b in _counting_periods(calendar, start, excluded):
        span = b - a
        if remaining <= span:
            return a + remaining
        remaining -= span
    raise AssertionError("unreachable: working_periods never ends")  # pragma: no cover


def business_time_between(
    calendar: Calendar,
    start: datetime,
    end: datetime,
    excluded: Iterable[tuple[datetime, datetime]] = (),
) -> timedelta:
    """The working time from `start` to `end` (zero when `end` is not after `start`)."""
    start, end = _utc(start), _utc(end)
    if end <= start:
        return ZERO
    total = ZERO
    for a, b in _counting_periods(calendar, start, excluded):
        if a >= end:
            break
        total += min(b, end) - a
    return total


def hours(amount: timedelta) -> float:
    return amount.total_seconds() / 3600
