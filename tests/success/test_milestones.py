"""success.milestones: product milestones found in usage (set-based), outcome milestones set by hand."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.factories import AccountFactory, ContactFactory, FrameworkFactory, SegmentFactory
from touchpoint.accounts.models import Account, TimelineEntry
from touchpoint.accounts.timeline import entry_title
from touchpoint.events.models import DomainEvent
from touchpoint.success import milestones
from touchpoint.success.definition import MilestoneRule
from touchpoint.success.milestones import DayOfUse, first_day_reference, first_days, record_from_usage
from touchpoint.success.models import (
    AccountPlacement,
    MilestoneDefinition,
    MilestoneReached,
    SuccessFramework,
)
from touchpoint.usage.models import DailyAccountRollup, DailyEventRollup, KeyFeature, RawEvent, Source

pytestmark = pytest.mark.django_db

START = date(2026, 1, 1)
AS_OF = date(2026, 3, 31)


def _milestone(framework: SuccessFramework, key: str, rule: dict | None, **extra) -> MilestoneDefinition:
    kind = "product" if rule else "outcome"
    return MilestoneDefinition.objects.create(
        framework=framework, key=key, name=key.replace("-", " ").title(), kind=kind, rule=rule or {}, **extra
    )


def _rollups(account_id: int, days: list[DayOfUse]) -> None:
    """Write the rollups (and raw events, one per person and day) the days describe."""
    source = Source.objects.get_or_create(name="test")[0]
    for d in days:
        DailyEventRollup.objects.bulk_create(
            [
                DailyEventRollup(account_id=account_id, day=d.day, event=name, events=n, users=1)
                for name, n in d.events.items()
                if n > 0
            ]
        )
        if d.people:
            DailyAccountRollup.objects.create(
                account_id=account_id,
                day=d.day,
                events=sum(d.events.values()) or 1,
                active_users=len(d.people),
            )
        moment = timezone.make_aware(datetime.combine(d.day, datetime.min.time().replace(hour=10)))
        RawEvent.objects.bulk_create(
            [
                RawEvent(
                    source=source,
                    message_id=f"{account_id}-{d.day}-{person}",
                    type="track",
                    event="Logged in",
                    user_id=person,
                    account_id=account_id,
                    timestamp=moment,
                    day=d.day,
                )
                for person in sorted(d.people)
            ]
        )


# --- The first day, against the brute-force reference --------------------------------------------

EVENTS = ["Report created", "Dashboard viewed", "page: Home"]
PEOPLE = ["ann", "bob", "cy", "dee", "eve"]

days_of_use = st.lists(
    st.builds(
        DayOfUse,
        day=st.integers(min_value=0, max_value=12).map(lambda n: START + timedelta(days=n)),
        events=st.dictionaries(st.sampled_from(EVENTS), st.integers(min_value=1, max_value=3), max_size=3),
        people=st.frozensets(st.sampled_from(PEOPLE), max_size=4),
    ),
    max_size=10,
    unique_by=lambda d: d.day,
)

event_rules = st.builds(
    MilestoneRule,
    event=st.sampled_from(EVENTS[:2]),
    count=st.integers(min_value=1, max_value=4),
    within_days=st.one_of(st.none(), st.integers(min_value=1, max_value=3)),
)
people_rules = st.builds(
    MilestoneRule,
    active_users=st.integers(min_value=1, max_value=4),
    within_days=st.one_of(st.none(), st.integers(min_value=1, max_value=5)),
)
feature_rules = st.builds(MilestoneRule, key_features=st.integers(min_value=1, max_value=3))


def _check_against_reference(rule: MilestoneRule, days: list[DayOfUse], cut: int) -> None:
    KeyFeature.objects.get_or_create(event="Report created")
    KeyFeature.objects.get_or_create(event="page: Home")
    account = Account.objects.get_or_create(name="Hypothesis")[0]  # one account, its usage made afresh
    for model in (DailyEventRollup, DailyAccountRollup, RawEvent):
        model.objects.filter(account_id=account.pk).delete()
    _rollups(account.pk, days)
    as_of = START + timedelta(days=cut)
    expected = first_day_reference(
        rule, [d for d in days if d.day <= as_of], key_features={"Report created", "page: Home"}
    )
    found = first_days(rule, as_of=as_of, account_ids=[account.pk]).get(account.pk)
    assert found == expected


HYPOTHESIS = {"deadline": None, "suppress_health_check": [HealthCheck.function_scoped_fixture]}


def _day(n: int, events: dict[str, int], people: str = "") -> DayOfUse:
    return DayOfUse(START + timedelta(days=n), events, frozenset(people.split()))


@settings(max_examples=150, **HYPOTHESIS)
@given(rule=event_rules, days=days_of_use, cut=st.integers(min_value=0, max_value=18))
# A window's edge: two reports three days apart are not "2 within 3 days", two days apart are.
@example(
    rule=MilestoneRule(event="Report created", count=2, within_days=3),
    days=[_day(0, {"Report created": 1}), _day(3, {"Report created": 1}), _day(5, {"Report created": 1})],
    cut=18,
)
def test_events_first_day_in_sql_is_the_first_day_the_rule_held(db, rule, days, cut):
    _check_against_reference(rule, days, cut)


@settings(max_examples=120, **HYPOTHESIS)
@given(rule=people_rules, days=days_of_use, cut=st.integers(min_value=0, max_value=18))
# Ann's day falls out of the window the day Bob and Cy come; Ann again later makes three.
@example(
    rule=MilestoneRule(active_users=3, within_days=2),
    days=[_day(0, {}, "ann"), _day(2, {}, "bob cy"), _day(3, {}, "bob"), _day(4, {}, "ann")],
    cut=18,
)
def test_active_people_first_day_in_sql_is_the_first_day_the_rule_held(db, rule, days, cut):
    _check_against_reference(rule, days, cut)


@settings(max_examples=40, **HYPOTHESIS)
@given(rule=feature_rules, days=days_of_use, cut=st.integers(min_value=0, max_value=18))
def test_key_features_first_day_in_sql_is_the_first_day_the_rule_held(db, rule, days, cut):
    _check_against_reference(rule, days, cut)


def test_the_reference_by_hand():
    day = [DayOfUse(START + timedelta(days=n), {"a": 1}, frozenset({f"p{n}"})) for n in (0, 2, 5)]
    assert first_day_reference(
        MilestoneRule(event="a", count=2), day, key_features=set()
    ) == START + timedelta(2)
    assert (
        first_day_reference(MilestoneRule(event="a", count=2, within_days=2), day, key_features=set()) is None
    )
    assert first_day_reference(
        MilestoneRule(active_users=2, within_days=3), day, key_features=set()
    ) == START + timedelta(2)
    assert first_day_reference(MilestoneRule(key_features=1), day, key_features={"a"}) == START


# --- Recording ------------------------------------------------------------------------------------


def _usage(account_id: int, *, report_days: list[int]) -> None:
    _rollups(
        account_id,
        [DayOfUse(START + timedelta(days=n), {"Report created": 1}, frozenset({"ann"})) for n in report_days],
    )


def test_recording_backfills_once_and_dates_each_reach_the_day_it_held():
    framework = FrameworkFactory()
    first = _milestone(framework, "first-report", {"event": "Report created"}, is_first_value=True)
    third = _milestone(framework, "three-reports", {"event": "Report created", "count": 3})
    account, idle = AccountFactory(), AccountFactory()
    _usage(account.pk, report_days=[3, 10, 20])

    assert record_from_usage(as_of=AS_OF) == 2
    reached = dict(MilestoneReached.objects.filter(account=account).values_list("milestone_id", "reached_on"))
    assert reached == {first.pk: START + timedelta(3), third.pk: START + timedelta(20)}
    assert not MilestoneReached.objects.filter(account=idle).exists()
    entries = TimelineEntry.objects.filter(account=account, kind="milestone_reached").order_by("occurred_at")
    assert [timezone.localdate(e.occurred_at) for e in entries] == [
        START + timedelta(3),
        START + timedelta(20),
    ]
    assert entry_title(entries[0]) == "Reached milestone First Report"
    # Old history: on the timeline, but no domain events to wake journeys.
    assert not DomainEvent.objects.filter(kind="milestone.reached").exists()

    assert record_from_usage(as_of=AS_OF) == 0  # idempotent
    assert TimelineEntry.objects.filter(kind="milestone_reached").count() == 2


def test_recent_reaches_become_domain_events():
    framework = FrameworkFactory()
    milestone = _milestone(framework, "first-report", {"event": "Report created"})
    account = AccountFactory()
    _usage(account.pk, report_days=[(AS_OF - START).days - 1])
    assert record_from_usage(as_of=AS_OF) == 1
    event = DomainEvent.objects.get(kind="milestone.reached")
    assert event.account_id == account.pk
    assert event.payload["milestone_id"] == milestone.pk
    assert event.payload["reached_on"] == (AS_OF - timedelta(1)).isoformat()


def test_a_reach_set_by_hand_is_left_untouched():
    framework = FrameworkFactory()
    milestone = _milestone(framework, "first-report", {"event": "Report created"})
    account = AccountFactory()
    MilestoneReached.objects.create(account=account, milestone=milestone, reached_on=START, source="import")
    _usage(account.pk, report_days=[5])
    assert record_from_usage(as_of=AS_OF) == 0
    assert MilestoneReached.objects.get(account=account).reached_on == START


def test_only_accounts_that_walk_the_framework_reach_its_milestones():
    standard = FrameworkFactory()
    self_serve = FrameworkFactory(name="Self-serve", is_default=False)
    smb = SegmentFactory(name="SMB")
    self_serve.segments.add(smb)
    ours = _milestone(self_serve, "first-report", {"event": "Report created"})
    theirs = _milestone(standard, "first-report", {"event": "Report created"})
    # The factory's own segments come round in turn and one of them is "SMB": name the default's.
    enterprise = SegmentFactory(name="Enterprise")
    by_segment, by_hand = AccountFactory(segment=smb), AccountFactory(segment=smb)
    default = AccountFactory(segment=enterprise)
    AccountPlacement.objects.create(account=by_hand, framework=standard)
    for account in (by_segment, by_hand, default):
        _usage(account.pk, report_days=[1])
    record_from_usage(as_of=AS_OF)
    pairs = set(MilestoneReached.objects.values_list("account_id", "milestone_id"))
    assert pairs == {(by_segment.pk, ours.pk), (by_hand.pk, theirs.pk), (default.pk, theirs.pk)}


def test_as_of_and_account_ids_narrow_the_run():
    framework = FrameworkFactory()
    _milestone(framework, "first-report", {"event": "Report created"})
    one, two = AccountFactory(), AccountFactory()
    _usage(one.pk, report_days=[10])
    _usage(two.pk, report_days=[10])
    assert record_from_usage(as_of=START + timedelta(9)) == 0
    assert record_from_usage(account_ids=[one.pk], as_of=AS_OF) == 1
    assert record_from_usage(account_ids=[], as_of=AS_OF) == 0
    assert set(MilestoneReached.objects.values_list("account_id", flat=True)) == {one.pk}


def test_definitions_changed_backfills_the_framework():
    framework = FrameworkFactory()
    account = AccountFactory()
    _usage(account.pk, report_days=[2])
    _milestone(framework, "first-report", {"event": "Report created"})
    assert milestones.on_definitions_changed(framework) == 1


def test_active_people_within_days_reads_the_raw_events():
    framework = FrameworkFactory()
    _milestone(framework, "two-people-a-week", {"active_users": 2, "within_days": 7})
    _milestone(framework, "two-people-a-day", {"active_users": 2})
    account = AccountFactory()
    _rollups(
        account.pk,
        [
            DayOfUse(START, {}, frozenset({"ann"})),
            DayOfUse(START + timedelta(6), {}, frozenset({"bob"})),
            DayOfUse(START + timedelta(30), {}, frozenset({"ann", "bob"})),
        ],
    )
    record_from_usage(as_of=AS_OF)
    reached = dict(MilestoneReached.objects.values_list("milestone__key", "reached_on"))
    assert reached == {"two-people-a-week": START + timedelta(6), "two-people-a-day": START + timedelta(30)}


# --- Outcome milestones -------------------------------------------------------------------------


def test_an_outcome_is_recorded_with_evidence_and_undone(csm):
    framework = FrameworkFactory()
    outcome = _milestone(framework, "roi-confirmed", None)
    account = AccountFactory(owner=csm)
    contact = ContactFactory(account=account)
    reach = milestones.record_outcome(
        account=account,
        milestone=outcome,
        reached_on=date(2026, 2, 1),
        evidence="Month-end close went from 9 to 4 days.",
        evidence_url="https://example.com/qbr",
        confirmed_by_contact=contact,
        actor=csm,
    )
    assert reach.source == "manual" and reach.recorded_by == csm
    entry = TimelineEntry.objects.get(account=account, kind="milestone_reached")
    assert entry.body.startswith("Month-end")
    assert DomainEvent.objects.filter(kind="milestone.reached", subject_id=reach.pk).exists()
    with pytest.raises(ValidationError) as error:
        milestones.record_outcome(
            account=account,
            milestone=outcome,
            reached_on=date(2026, 2, 2),
            evidence="x",
            confirmed_by_name="Ann",
            actor=csm,
        )
    assert error.value.error_dict["milestone"][0].code == "unique"

    assert milestones.undo_outcome(account=account, milestone=outcome, actor=csm) is True
    assert not MilestoneReached.objects.exists()
    assert not TimelineEntry.objects.filter(kind="milestone_reached").exists()
    assert milestones.undo_outcome(account=account, milestone=outcome, actor=csm) is False


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"reached_on": date(2999, 1, 1)}, "reached_on"),
        ({"evidence": "  "}, "evidence"),
        ({"evidence": "x" * 5001}, "evidence"),
        ({"evidence_url": "not a link"}, "evidence_url"),
        ({"confirmed_by_name": ""}, "confirmed_by_name"),
        ({"confirmed_by_name": "n" * 201}, "confirmed_by_name"),
    ],
)
def test_a_bad_outcome_names_the_field(csm, changes, field):
    framework = FrameworkFactory()
    outcome = _milestone(framework, "roi-confirmed", None)
    account = AccountFactory(owner=csm)
    given = {
        "reached_on": date(2026, 2, 1),
        "evidence": "It worked",
        "evidence_url": "",
        "confirmed_by_name": "Ann",
        **changes,
    }
    with pytest.raises(ValidationError) as error:
        milestones.record_outcome(account=account, milestone=outcome, actor=csm, **given)
    assert field in error.value.message_dict
    assert not MilestoneReached.objects.exists()


def test_product_milestones_and_other_accounts_contacts_are_refused(csm):
    framework = FrameworkFactory()
    product = _milestone(framework, "first-report", {"event": "Report created"})
    outcome = _milestone(framework, "roi", None)
    account = AccountFactory(owner=csm)
    stranger = ContactFactory()
    with pytest.raises(ValidationError) as error:
        milestones.record_outcome(
            account=account,
            milestone=product,
            reached_on=START,
            evidence="x",
            confirmed_by_name="A",
            actor=csm,
        )
    assert "milestone" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        milestones.record_outcome(
            account=account,
            milestone=outcome,
            reached_on=START,
            evidence="x",
            confirmed_by_contact=stranger,
            actor=csm,
        )
    assert "confirmed_by_contact" in error.value.message_dict
