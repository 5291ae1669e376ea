"""The status a checklist gives a touchpoint (readiness/status.py)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from touchpoint.readiness.models import Answer, Status
from touchpoint.readiness.status import derived_status, is_overdue

TODAY = date(2026, 6, 1)
answers = st.lists(st.sampled_from([a.value for a in Answer]), max_size=8)
due = st.one_of(st.none(), st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)))


def test_the_cases_people_meet():
    assert derived_status([], due_on=None, today=TODAY) == Status.GAP  # nothing shows it is ready
    assert derived_status(["", ""], due_on=None, today=TODAY) == Status.GAP  # nobody has said how
    assert derived_status(["yes", ""], due_on=None, today=TODAY) == Status.AT_RISK
    assert derived_status(["yes", "partly"], due_on=TODAY, today=TODAY) == Status.AT_RISK  # due today
    assert derived_status(["yes", "partly"], due_on=TODAY - timedelta(days=1), today=TODAY) == Status.GAP
    assert derived_status(["yes", "no"], due_on=None, today=TODAY) == Status.GAP
    assert (
        derived_status(["yes", "not_applicable"], due_on=TODAY - timedelta(days=9), today=TODAY)
        == Status.READY
    )


@given(answers, due)
def test_a_no_is_always_a_gap_and_only_all_yes_is_ready(given_answers, due_on):
    status = derived_status(given_answers, due_on=due_on, today=TODAY)
    assert status != Status.NOT_APPLICABLE  # only ever set by hand
    if "no" in given_answers or not given_answers:
        assert status == Status.GAP
    assert (status == Status.READY) == (
        bool(given_answers) and all(a in ("yes", "not_applicable") for a in given_answers)
    )


@given(answers, due)
def test_a_later_due_date_never_makes_it_worse(given_answers, due_on):
    rank = {Status.GAP: 0, Status.AT_RISK: 1, Status.READY: 2}
    earlier = derived_status(given_answers, due_on=due_on, today=TODAY)
    later = derived_status(
        given_answers,
        due_on=due_on + timedelta(days=30) if due_on and due_on < date(2099, 1, 1) else due_on,
        today=TODAY,
    )
    assert rank[later] >= rank[earlier]


def test_overdue_means_late_and_unsettled():
    late = TODAY - timedelta(days=1)
    assert is_overdue(status="gap", due_on=late, today=TODAY)
    assert not is_overdue(status="ready", due_on=late, today=TODAY)
    assert not is_overdue(status="not_applicable", due_on=late, today=TODAY)
    assert not is_overdue(status="gap", due_on=None, today=TODAY)
