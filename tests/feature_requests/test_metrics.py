"""The revenue-at-stake rule (metrics.py): the sum it says it is, never below the ARR, and never
lowered by a nearer renewal or worse health."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from touchpoint.feature_requests.metrics import Requester, Weighting, stake, weight

TODAY = date(2026, 6, 1)
GRADES = st.sampled_from([None, "unknown", "green", "yellow", "red"])
ARRS = st.one_of(st.none(), st.decimals(min_value=0, max_value=10**9, places=2))
DAYS = st.one_of(st.none(), st.integers(min_value=-400, max_value=2000))


def requester(arr, days, grade, account_id=1) -> Requester:
    return Requester(
        account_id=account_id,
        arr=arr,
        next_renewal=None if days is None else TODAY + timedelta(days=days),
        grade=grade,
    )


requesters = st.lists(st.tuples(ARRS, DAYS, GRADES), max_size=20)


@given(requesters)
def test_the_stake_is_the_sum_of_arr_times_weight(rows):
    found = stake([requester(*row, account_id=i) for i, row in enumerate(rows)], today=TODAY)
    assert found.total == sum((p.arr * p.weight.total for p in found.parts), Decimal(0))
    assert found.total == found.arr + found.renewal_boost + found.health_boost
    assert found.total >= found.arr >= 0
    assert found.accounts == len(rows)


@given(ARRS, st.integers(min_value=-400, max_value=2000), st.integers(min_value=0, max_value=400), GRADES)
def test_a_nearer_renewal_never_lowers_the_weight(arr, days, closer_by, grade):
    far = weight(requester(arr, days, grade), today=TODAY)
    near = weight(requester(arr, days - closer_by, grade), today=TODAY)
    assert near.total >= far.total


@given(ARRS, DAYS)
def test_worse_health_never_lowers_the_weight(arr, days):
    totals = [weight(requester(arr, days, grade), today=TODAY).total for grade in ("green", "yellow", "red")]
    assert totals == sorted(totals)
    assert weight(requester(arr, days, None), today=TODAY).total == totals[0]


@given(requesters, requesters)
def test_stakes_add_up_over_accounts(first, second):
    a = stake([requester(*row) for row in first], today=TODAY)
    b = stake([requester(*row) for row in second], today=TODAY)
    both = stake([requester(*row) for row in first + second], today=TODAY)
    assert both.total == a.total + b.total


def test_the_documented_weights():
    assert weight(requester(Decimal(100), 200, "green"), today=TODAY).total == 1
    assert weight(requester(Decimal(100), 90, "green"), today=TODAY).total == Decimal("1.5")
    assert weight(requester(Decimal(100), 91, None), today=TODAY).total == 1
    assert weight(requester(Decimal(100), -10, None), today=TODAY).renewal_near  # overdue is near
    assert weight(requester(Decimal(100), 30, "red"), today=TODAY).total == 2
    assert weight(requester(Decimal(100), None, "yellow"), today=TODAY).total == Decimal("1.25")
    example = stake([requester(Decimal(1000), 30, "red"), requester(None, 10, "red")], today=TODAY)
    assert example.total == 2000  # an account without ARR adds nothing, but counts
    assert (example.accounts, example.renewing_soon, example.at_risk) == (2, 2, 2)


def test_the_weighting_is_one_place_to_change():
    rules = Weighting(
        renewal_days=30, renewal_boost=Decimal(1), red_boost=Decimal(0), yellow_boost=Decimal(0)
    )
    assert weight(requester(Decimal(1), 31, "red"), today=TODAY, rules=rules).total == 1
    assert weight(requester(Decimal(1), 30, "red"), today=TODAY, rules=rules).total == 2
