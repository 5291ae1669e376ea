"""The success-gap funnel's numbers: the SQL against a brute-force count in Python, and the cache."""

from __future__ import annotations

import statistics
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.factories import AccountFactory, FrameworkFactory, SegmentFactory, UserFactory
from touchpoint.accounts.models import Account
from touchpoint.success import funnel as funnel_module
from touchpoint.success.funnel import FunnelFilter, funnel, median_of_counts, parse_cohort, stalled_accounts
from touchpoint.success.models import (
    AccountPlacement,
    MilestoneDefinition,
    MilestoneKind,
    MilestoneReached,
    SuccessFramework,
)
from touchpoint.users.roles import Role

pytestmark = pytest.mark.django_db

AS_OF = date(2026, 6, 30)
DAY0 = date(2026, 1, 1)


def _milestone(framework, key, position, kind=MilestoneKind.PRODUCT, stall=10) -> MilestoneDefinition:
    return MilestoneDefinition.objects.create(
        framework=framework, key=key, name=key.title(), kind=kind, position=position, stall_after_days=stall
    )


def _reach(account, milestone, on: date) -> None:
    MilestoneReached.objects.create(account=account, milestone=milestone, reached_on=on, source="rule")


def _brute_force(framework, milestones, filters: FunnelFilter, as_of: date):
    """Each account walked one by one, straight from the definitions in funnel.py's docstring."""
    started = 0
    reached = [0] * len(milestones)
    stalled = [0] * len(milestones)
    days: list[list[int]] = [[] for _m in milestones]
    for placement in AccountPlacement.objects.filter(framework=framework).select_related("account"):
        account = placement.account
        start = placement.started_on or account.created_at.date()  # UTC in tests
        if filters.segment_id is not None and account.segment_id != filters.segment_id:
            continue
        if filters.owner_id is not None and account.owner_id != filters.owner_id:
            continue
        if filters.cohort is not None and (start.year, start.month) != (
            filters.cohort.year,
            filters.cohort.month,
        ):
            continue
        started += 1
        on = {r.milestone_id: r.reached_on for r in MilestoneReached.objects.filter(account=account)}
        previous: date | None = start
        for k, milestone in enumerate(milestones):
            if previous is None:
                break
            if milestone.pk in on:
                here = max(previous, on[milestone.pk])
                reached[k] += 1
                days[k].append((here - previous).days)
                previous = here
            else:
                if (as_of - previous).days > milestone.stall_after_days:
                    stalled[k] += 1
                previous = None
    return started, reached, stalled, [statistics.median(d) if d else None for d in days]


@st.composite
def worlds(draw):
    n_milestones = draw(st.integers(0, 4))
    milestones = [
        (draw(st.sampled_from([MilestoneKind.PRODUCT, MilestoneKind.OUTCOME])), draw(st.integers(0, 40)))
        for _i in range(n_milestones)
    ]
    accounts = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "framework": st.sampled_from(["ours", "other", None]),
                    "started": st.one_of(st.none(), st.integers(0, 150)),
                    "created": st.integers(0, 150),
                    "segment": st.integers(0, 1),
                    "owner": st.integers(0, 1),
                    "reaches": st.lists(st.one_of(st.none(), st.integers(0, 180)), min_size=4, max_size=4),
                }
            ),
            max_size=12,
        )
    )
    filters = (
        draw(st.one_of(st.none(), st.integers(0, 1))),
        draw(st.one_of(st.none(), st.integers(0, 1))),
        draw(st.one_of(st.none(), st.integers(0, 5))),
    )
    return milestones, accounts, filters


@hypothesis_settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(world=worlds())
def test_the_sql_funnel_counts_what_walking_each_account_counts(world):
    milestone_specs, account_specs, (segment_pick, owner_pick, cohort_pick) = world
    with transaction.atomic():
        ours = FrameworkFactory(name="Ours", is_default=False)
        other = FrameworkFactory(name="Other", is_default=False)
        segments = [SegmentFactory(name="Big"), SegmentFactory(name="Small")]
        owners = [UserFactory(role=Role.CSM), UserFactory(role=Role.CSM)]
        milestones = [
            _milestone(ours, f"m{i}", position=i, kind=kind, stall=stall)
            for i, (kind, stall) in enumerate(milestone_specs)
        ]
        _milestone(other, "elsewhere", 0)
        for spec in account_specs:
            account = AccountFactory(
                owner=owners[spec["owner"]],
                segment=segments[spec["segment"]],
                created_at=datetime.combine(DAY0 + timedelta(days=spec["created"]), datetime.min.time(), UTC),
            )
            if spec["framework"] is not None:
                AccountPlacement.objects.create(
                    account=account,
                    framework=ours if spec["framework"] == "ours" else other,
                    started_on=None if spec["started"] is None else DAY0 + timedelta(days=spec["started"]),
                )
            for milestone, day in zip(milestones, spec["reaches"], strict=False):
                if day is not None:
                    _reach(account, milestone, DAY0 + timedelta(days=day))
        filters = FunnelFilter(
            segment_id=None if segment_pick is None else segments[segment_pick].pk,
            owner_id=None if owner_pick is None else owners[owner_pick].pk,
            cohort=None if cohort_pick is None else date(2026, 1 + cohort_pick, 1),
        )
        found = funnel(framework=ours, filters=filters, as_of=AS_OF, use_cache=False)
        started, reached, stalled, medians = _brute_force(ours, milestones, filters, AS_OF)
        assert found.started == started
        assert [s.reached for s in found.steps] == reached
        assert [s.stalled for s in found.steps] == stalled
        assert [s.median_days for s in found.steps] == medians
        # The stalled list is the same accounts the count counts.
        for step in found.steps:
            listed = stalled_accounts(
                framework=ours,
                milestone=step.milestone,
                filters=filters,
                as_of=AS_OF,
                limit=1000,
                use_cache=False,
            )
            assert len(listed) == step.stalled
            assert all(entry.days > step.milestone.stall_after_days for entry in listed)
        transaction.set_rollback(True)


@given(st.dictionaries(st.integers(-50, 400), st.integers(1, 5), max_size=20))
def test_the_median_of_counts_is_the_median_of_the_values(counts):
    values = [value for value, n in counts.items() for _i in range(n)]
    assert median_of_counts(counts) == (statistics.median(values) if values else None)


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "0000-01", "9999-01", "26-01", "2026-1", "x" * 1000])
def test_a_malformed_or_out_of_range_cohort_is_refused(text):
    with pytest.raises(ValueError, match="YYYY-MM"):
        parse_cohort(text)


def test_a_cohort_is_its_first_day():
    assert parse_cohort(" 2026-03 ") == date(2026, 3, 1) and parse_cohort("") is None


def _gap_world():
    framework = FrameworkFactory(name="Gap", is_default=False)
    setup = _milestone(framework, "setup", 0)
    used = _milestone(framework, "used", 1)
    outcome = _milestone(framework, "outcome", 2, kind=MilestoneKind.OUTCOME, stall=30)
    owner = UserFactory(role=Role.CSM)
    accounts = []
    for _i in range(6):
        account = AccountFactory(owner=owner)
        AccountPlacement.objects.create(account=account, framework=framework, started_on=DAY0)
        accounts.append(account)
    for account in accounts[:5]:
        _reach(account, setup, DAY0 + timedelta(days=3))
    for account in accounts[:4]:
        _reach(account, used, DAY0 + timedelta(days=10))
    _reach(accounts[0], outcome, DAY0 + timedelta(days=40))
    return framework, accounts, outcome


def test_the_gap_is_between_the_last_product_milestone_and_the_outcomes():
    framework, _accounts, _outcome = _gap_world()
    found = funnel(framework=framework, filters=FunnelFilter(), as_of=AS_OF, use_cache=False)
    assert [s.reached for s in found.steps] == [5, 4, 1]
    assert found.steps[1].conversion_from_previous == pytest.approx(4 / 5)
    assert found.steps[2].conversion_from_start == pytest.approx(1 / 6)
    assert found.gap is not None and found.gap.product_step.milestone.key == "used"
    assert (found.gap.accounts, found.gap.share) == (3, pytest.approx(3 / 4))
    assert found.gap.median_days == 30
    assert [s.stalled for s in found.steps] == [1, 1, 3]


def test_no_gap_without_an_outcome_after_the_product_milestones():
    framework = FrameworkFactory(name="Product only", is_default=False)
    _milestone(framework, "setup", 0)
    assert funnel(framework=framework, filters=FunnelFilter(), as_of=AS_OF, use_cache=False).gap is None


def test_a_csm_reading_only_their_book_counts_only_their_accounts(csm, own_books_only):
    framework, accounts, _outcome = _gap_world()
    Account.objects.filter(pk=accounts[0].pk).update(owner=csm)
    found = funnel(framework=framework, filters=FunnelFilter(reader=csm), as_of=AS_OF, use_cache=False)
    assert found.started == 1 and [s.reached for s in found.steps] == [1, 1, 1]


def test_the_cache_answers_until_a_reach_is_recorded_or_undone(django_assert_max_num_queries):
    framework, accounts, outcome = _gap_world()
    first = funnel(framework=framework, filters=FunnelFilter(), as_of=AS_OF)
    again = funnel(framework=framework, filters=FunnelFilter(), as_of=AS_OF)
    assert not first.from_cache and again.from_cache
    _reach(accounts[1], outcome, DAY0 + timedelta(days=50))
    after_write = funnel(framework=framework, filters=FunnelFilter(), as_of=AS_OF)
    assert not after_write.from_cache and after_write.steps[2].reached == 2
    MilestoneReached.objects.filter(account=accounts[0], milestone=outcome).delete()  # an outcome undone
    after_undo = funnel(framework=framework, filters=FunnelFilter(), as_of=AS_OF)
    assert not after_undo.from_cache and after_undo.steps[2].reached == 1
    with django_assert_max_num_queries(5):
        assert funnel(framework=framework, filters=FunnelFilter(), as_of=AS_OF).from_cache


def test_the_stalled_list_names_owner_and_health_longest_first():
    framework, accounts, outcome = _gap_world()
    listed = stalled_accounts(framework=framework, milestone=outcome, filters=FunnelFilter(), as_of=AS_OF)
    assert [entry.account.pk for entry in listed] == [a.pk for a in accounts[1:4]]
    assert listed[0].days == (AS_OF - (DAY0 + timedelta(days=10))).days
    assert listed[0].account.owner is not None and listed[0].health_grade is None


def test_an_unknown_framework_has_no_milestones_and_counts_nobody():
    empty = SuccessFramework.objects.create(name="Empty")
    found = funnel(framework=empty, filters=FunnelFilter(), as_of=AS_OF, use_cache=False)
    assert found.started == 0 and found.steps == [] and found.gap is None
    assert funnel_module.milestones_of(empty) == []


def test_a_bulk_update_is_seen_once_its_writer_says_so():
    framework, accounts, _outcome = _gap_world()
    assert funnel(framework=framework, filters=FunnelFilter(), as_of=AS_OF).started == 6
    # A bulk update sends no signal and adds no row: the cache cannot see it...
    elsewhere = FrameworkFactory(name="Elsewhere", is_default=False)
    AccountPlacement.objects.filter(account=accounts[5]).update(framework=elsewhere)
    assert funnel(framework=framework, filters=FunnelFilter(), as_of=AS_OF).from_cache
    # ...until the writer calls data_changed(), as bulk writers do.
    funnel_module.data_changed()
    assert funnel(framework=framework, filters=FunnelFilter(), as_of=AS_OF).started == 5


def test_moving_an_account_to_another_framework_is_seen_at_once():
    framework, accounts, _outcome = _gap_world()
    assert funnel(framework=framework, filters=FunnelFilter(), as_of=AS_OF).started == 6
    placement = AccountPlacement.objects.get(account=accounts[5])
    placement.framework = FrameworkFactory(name="Elsewhere", is_default=False)
    placement.save()
    assert funnel(framework=framework, filters=FunnelFilter(), as_of=AS_OF).started == 5
