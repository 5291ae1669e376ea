"""Business-time arithmetic: properties over random calendars and moments, and the awkward days
(clock changes, midnight, holidays, weekends) by example."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from touchpoint.support.businesstime import (
    ROUND_THE_CLOCK,
    Calendar,
    add_business_time,
    business_time_between,
    working_periods,
)

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Lord_Howe", "Asia/Kolkata"]


@st.composite
def calendars(draw) -> Calendar:
    open_minute = draw(st.integers(0, 1380))
    close_minute = draw(st.integers(open_minute + 15, 1440))
    holidays = draw(st.frozensets(st.dates(date(2026, 1, 1), date(2026, 12, 31)), max_size=20))
    return Calendar(
        time_zone=draw(st.sampled_from(ZONES)),
        working_days=draw(st.frozensets(st.integers(0, 6), min_size=1)),
        open_minute=open_minute,
        close_minute=close_minute,
        holidays=holidays,
    )


moments = st.datetimes(datetime(2026, 1, 1), datetime(2026, 12, 31), timezones=st.just(UTC))
amounts = st.integers(0, 60 * 24 * 40).map(lambda minutes: timedelta(minutes=minutes))
seconds = st.integers(0, 3600 * 24 * 20).map(lambda s: timedelta(seconds=s))


@settings(max_examples=150, deadline=None)
@given(calendars(), moments, amounts)
def test_between_undoes_add(calendar, start, amount):
    due = add_business_time(calendar, start, amount)
    assert due >= start
    assert business_time_between(calendar, start, due) == amount


@settings(max_examples=150, deadline=None)
@given(calendars(), moments, seconds, seconds)
def test_between_adds_up(calendar, a, gap1, gap2):
    b, c = a + gap1, a + gap1 + gap2
    assert business_time_between(calendar, a, b) + business_time_between(
        calendar, b, c
    ) == business_time_between(calendar, a, c)
    assert business_time_between(calendar, a, c) <= c - a


@settings(max_examples=100, deadline=None)
@given(calendars(), moments, amounts, amounts)
def test_add_is_monotonic_and_composes(calendar, start, first, second):
    assert add_business_time(calendar, start, min(first, second)) <= add_business_time(
        calendar, start, max(first, second)
    )
    if first > timedelta(0):
        assert add_business_time(
            calendar, add_business_time(calendar, start, first), second
        ) == add_business_time(calendar, start, first + second)


@settings(max_examples=100, deadline=None)
@given(calendars(), moments, amounts.filter(lambda a: a > timedelta(0)))
def test_a_due_moment_lies_in_working_hours(calendar, start, amount):
    due = add_business_time(calendar, start, amount)
    local = due.astimezone(ZoneInfo(calendar.time_zone))
    inside = any(opens < due <= closes for opens, closes in _periods_around(calendar, due))
    assert inside, (due, local)


def _periods_around(calendar, moment):
    for opens, closes in working_periods(calendar, moment - timedelta(days=2)):
        if opens > moment:
            return
        yield opens, closes


@settings(max_examples=100, deadline=None)
@given(calendars(), moments, seconds, st.lists(st.tuples(seconds, seconds), max_size=4))
def test_excluded_periods_never_add_time(calendar, start, length, cuts):
    end = start + length
    excluded = [(start + a, start + a + b) for a, b in cuts]
    assert business_time_between(calendar, start, end, excluded) <= business_time_between(
        calendar, start, end
    )
    amount = business_time_between(calendar, start, end, excluded)
    if amount > timedelta(0):
        assert add_business_time(calendar, start, amount, excluded) <= end


BERLIN = Calendar(time_zone="Europe/Berlin", open_minute=9 * 60, close_minute=17 * 60)


def berlin(*args) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo("Europe/Berlin"))


def test_a_working_day_is_eight_hours_on_the_days_clocks_change():
    # 2026-03-30 (Monday after the spring change) and 2026-10-26 (Monday after the autumn one)
    assert business_time_between(BERLIN, berlin(2026, 3, 30, 0), berlin(2026, 3, 31, 0)) == timedelta(hours=8)
    assert business_time_between(BERLIN, berlin(2026, 10, 26, 0), berlin(2026, 10, 27, 0)) == timedelta(
        hours=8
    )


def test_round_the_clock_counts_the_real_hours_of_a_clock_change_day():
    zone = Calendar(
        time_zone="Europe/Berlin", working_days=frozenset(range(7)), open_minute=0, close_minute=1440
    )
    assert business_time_between(zone, berlin(2026, 3, 29, 0), berlin(2026, 3, 30, 0)) == timedelta(hours=23)
    assert business_time_between(zone, berlin(2026, 10, 25, 0), berlin(2026, 10, 26, 0)) == timedelta(
        hours=25
    )
    # Round the clock in UTC counts the instants between, whatever the wall clock says: 23 h too.
    assert business_time_between(
        ROUND_THE_CLOCK, berlin(2026, 3, 29, 0), berlin(2026, 3, 30, 0)
    ) == timedelta(hours=23)


def test_friday_afternoon_runs_into_monday():
    # Friday 2026-03-06 16:00 Berlin + 3 business hours = Monday 11:00
    assert add_business_time(BERLIN, berlin(2026, 3, 6, 16), timedelta(hours=3)) == berlin(2026, 3, 9, 11)


def test_a_holiday_is_skipped():
    calendar = Calendar(
        time_zone="Europe/Berlin", holidays=frozenset({date(2026, 12, 24), date(2026, 12, 25)})
    )
    # Wednesday 23rd 16:00 + 2 h: one hour on the 23rd, the 24th and 25th off, the weekend off: Monday 10:00
    assert add_business_time(calendar, berlin(2026, 12, 23, 16), timedelta(hours=2)) == berlin(
        2026, 12, 28, 10
    )


def test_a_ticket_opened_at_night_starts_counting_at_opening():
    assert add_business_time(BERLIN, berlin(2026, 3, 3, 23, 30), timedelta(minutes=30)) == berlin(
        2026, 3, 4, 9, 30
    )
    assert business_time_between(BERLIN, berlin(2026, 3, 3, 17), berlin(2026, 3, 4, 9)) == timedelta(0)


def test_ending_exactly_at_closing_gives_closing_time():
    assert add_business_time(BERLIN, berlin(2026, 3, 4, 9), timedelta(hours=8)) == berlin(2026, 3, 4, 17)


def test_midnight_close_is_the_end_of_the_day():
    calendar = Calendar(time_zone="Asia/Tokyo", open_minute=20 * 60, close_minute=1440)
    tokyo = ZoneInfo("Asia/Tokyo")
    assert add_business_time(
        calendar, datetime(2026, 3, 4, 23, tzinfo=tokyo), timedelta(hours=2)
    ) == datetime(2026, 3, 5, 21, tzinfo=tokyo)


def test_naive_times_and_bad_calendars_are_refused():
    with pytest.raises(ValueError):
        add_business_time(BERLIN, datetime(2026, 3, 4, 9), timedelta(hours=1))
    with pytest.raises(ValueError):
        Calendar(working_days=frozenset())
    with pytest.raises(ValueError):
        Calendar(open_minute=600, close_minute=600)
    with pytest.raises(ValueError):
        add_business_time(BERLIN, berlin(2026, 3, 4, 9), timedelta(hours=-1))
