"""A ticket's SLA clocks as pure functions: when each started, how much business time it has used,
when it is (or was) due, and whether it breached.

Three clocks, each counted in the policy calendar's business hours, minus the periods the ticket was
paused (pending, on hold, solved or closed):

- first reply: from the ticket's opening to its first reply;
- next reply: from the customer's latest message after a reply (`awaiting_reply_since`) to the next
  reply (`last_reply_at` at or after it);
- resolution: from the opening to the moment it was solved.

A clock breaches when the business time it used passes its target (a reply exactly on the due moment
meets it). A running clock that is not paused has a due moment in the future until it breaches; a
paused one has none (the clock stands still), unless it breached before it was paused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from touchpoint.support.businesstime import Calendar, add_business_time, business_time_between

Pause = tuple[datetime, datetime | None]


@dataclass(frozen=True)
class Targets:
    first_reply: timedelta | None = None
    next_reply: timedelta | None = None
    resolution: timedelta | None = None


@dataclass(frozen=True)
class TicketTimes:
    opened_at: datetime
    first_reply_at: datetime | None = None
    last_reply_at: datetime | None = None
    awaiting_reply_since: datetime | None = None
    solved_at: datetime | None = None
    pauses: tuple[Pause, ...] = ()


@dataclass(frozen=True)
class Clock:
    metric: str  # first_reply, next_reply, resolution
    started_at: datetime
    stopped_at: datetime | None
    target: timedelta | None
    used: timedelta  # business time used up to the stop (or now), pauses left out
    due_at: datetime | None
    breached: bool
    paused: bool  # running but standing still now

    @property
    def running(self) -> bool:
        return self.stopped_at is None


def open_pause(pauses: tuple[Pause, ...]) -> datetime | None:
    return pauses[-1][0] if pauses and pauses[-1][1] is None else None


def _closed(pauses: tuple[Pause, ...], until: datetime) -> list[tuple[datetime, datetime]]:
    """The pauses as finite periods, an open one ending at `until`."""
    return [(start, end if end is not None else max(start, until)) for start, end in pauses]


def _clock(
    metric: str,
    started_at: datetime,
    stopped_at: datetime | None,
    target: timedelta | None,
    times: TicketTimes,
    calendar: Calendar,
    now: datetime,
) -> Clock:
    end = stopped_at if stopped_at is not None else max(now, started_at)
    excluded = _closed(times.pauses, end)
    used = business_time_between(calendar, started_at, end, excluded)
    paused_now = stopped_at is None and open_pause(times.pauses) is not None
    if target is None:
        return Clock(metric, started_at, stopped_at, None, used, None, False, paused_now)
    breached = used > target
    due_at: datetime | None = None
    if breached or used == target:
        # It passed (or reaches) its target before the end considered: that moment is finite.
        due_at = add_business_time(calendar, started_at, target, excluded)
    elif stopped_at is None and not paused_now:
        due_at = add_business_time(calendar, started_at, target, excluded)
    return Clock(metric, started_at, stopped_at, target, used, due_at, breached, paused_now)


def clocks(times: TicketTimes, targets: Targets, calendar: Calendar, now: datetime) -> list[Clock]:
    """The ticket's clocks as of `now` (a clock whose start is unknown is left out)."""
    result = [
        _clock(
            "first_reply", times.opened_at, times.first_reply_at, targets.first_reply, times, calendar, now
        ),
    ]
    waiting = times.awaiting_reply_since
    if waiting is not None and times.first_reply_at is not None and waiting >= times.first_reply_at:
        replied = times.last_reply_at if times.last_reply_at and times.last_reply_at >= waiting else None
        if replied is None and times.solved_at is not None and times.solved_at >= waiting:
            replied = times.solved_at  # solving the ticket answers it
        result.append(_clock("next_reply", waiting, replied, targets.next_reply, times, calendar, now))
    result.append(
        _clock("resolution", times.opened_at, times.solved_at, targets.resolution, times, calendar, now)
    )
    return result


def next_due(found: list[Clock]) -> datetime | None:
    """The earliest due moment of a running clock that has not breached yet (what the minute job waits for)."""
    dues = [c.due_at for c in found if c.running and not c.breached and not c.paused and c.due_at is not None]
    return min(dues) if dues else None


def with_status(pauses: tuple[Pause, ...], *, paused: bool, at: datetime) -> tuple[Pause, ...]:
    """The pauses after the ticket moved to a paused (or running) status at `at`."""
    current = open_pause(pauses)
    if paused and current is None:
        if pauses and pauses[-1][1] is not None and at < pauses[-1][1]:
            at = pauses[-1][1]  # out-of-order times: a pause never starts inside the previous one
        return (*pauses, (at, None))
    if not paused and current is not None:
        return (*pauses[:-1], (current, max(current, at)))
    return pauses
