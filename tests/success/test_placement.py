"""The placement engine: facts for every account at once, the furthest phase whose rules hold, overrides."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import (
    AccountFactory,
    FrameworkFactory,
    PhaseFactory,
    SegmentFactory,
    SubscriptionFactory,
)
from touchpoint.accounts.models import TimelineEntry
from touchpoint.events.models import DomainEvent
from touchpoint.health.models import HealthScore, Scorecard, ScorecardVersion
from touchpoint.success import placement, services
from touchpoint.success.models import AccountPlacement, MilestoneDefinition, MilestoneReached
from touchpoint.usage.models import DailyAccountRollup, DailyEventRollup, KeyFeature

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
TODAY = NOW.date()


@pytest.fixture
def standard():
    framework = FrameworkFactory(name="Standard", is_default=True)
    onboarding = PhaseFactory(framework=framework, name="Onboarding", position=0, entry_rules=[])
    adoption = PhaseFactory(
        framework=framework,
        name="Adoption",
        position=1,
        entry_rules=[{"days_since_start": {"at_least": 30}}, {"active_users": {"at_least": 3, "days": 7}}],
    )
    renewal = PhaseFactory(
        framework=framework,
        name="Renewal",
        position=2,
        entry_rules=[{"days_to_renewal": {"at_most": 90}}, {"subscription": ["active"]}],
    )
    return framework, onboarding, adoption, renewal


def _usage(account, users: int, days_ago: int = 1) -> None:
    DailyAccountRollup.objects.create(
        account=account, day=TODAY - timedelta(days=days_ago), events=10, active_users=users
    )


def _placement(account) -> AccountPlacement:
    return AccountPlacement.objects.get(account=account)


def test_every_account_lands_in_the_furthest_phase_whose_rules_hold(standard):
    framework, onboarding, adoption, renewal = standard
    new = AccountFactory()  # created today: no rule beyond the first holds
    used = AccountFactory()
    SubscriptionFactory(
        account=used, started_on=TODAY - timedelta(days=100), renewal_date=TODAY + timedelta(days=200)
    )
    _usage(used, users=5)
    renewing = AccountFactory()
    SubscriptionFactory(
        account=renewing, started_on=TODAY - timedelta(days=300), renewal_date=TODAY + timedelta(days=60)
    )  # renewal holds though adoption does not: the furthest phase wins
    stale = AccountFactory()
    SubscriptionFactory(
        account=stale, started_on=TODAY - timedelta(days=100), renewal_date=TODAY + timedelta(days=200)
    )
    _usage(stale, users=5, days_ago=8)  # outside the 7-day window

    stats = placement.place_all(now=NOW)

    assert stats.accounts == 4 and stats.placed == 4 and stats.moved == 4
    assert _placement(new).phase == onboarding
    assert _placement(used).phase == adoption
    assert _placement(renewing).phase == renewal
    assert _placement(stale).phase == onboarding
    assert _placement(used).started_on == TODAY - timedelta(days=100)
    assert _placement(new).framework == framework
    entry = TimelineEntry.objects.get(account=used, kind="phase_changed")
    assert entry.data["changes"]["phase"] == [None, "Adoption"]
    event = DomainEvent.objects.get(account_id=used.pk, kind="phase.changed")
    assert event.payload["phase_id"] == adoption.pk and event.payload["previous_phase_id"] is None


def test_a_second_run_with_nothing_new_writes_nothing_and_a_change_moves_one(standard):
    _framework, onboarding, adoption, _renewal = standard
    account = AccountFactory()
    SubscriptionFactory(account=account, started_on=TODAY - timedelta(days=100), renewal_date=None)
    placement.place_all(now=NOW)
    assert _placement(account).phase == onboarding
    later = NOW + timedelta(hours=1)
    assert placement.place_all(now=later).moved == 0
    _usage(account, users=4)
    stats = placement.place_all(now=later + timedelta(minutes=1))
    assert stats.moved == 1
    moved = _placement(account)
    assert moved.phase == adoption and moved.entered_at == later + timedelta(minutes=1)
    assert TimelineEntry.objects.filter(account=account, kind="phase_changed").count() == 2
    assert DomainEvent.objects.filter(account_id=account.pk, kind="phase.changed").count() == 2


def test_the_run_is_a_bounded_number_of_queries_however_many_accounts(standard):
    for _ in range(3):
        AccountFactory()
    with CaptureQueriesContext(connection) as few:
        placement.place_all(now=NOW)
    for _ in range(30):
        AccountFactory()
    with CaptureQueriesContext(connection) as many:
        placement.place_all(now=NOW + timedelta(hours=1))
    assert len(many) == len(few)


def test_segment_framework_then_the_default_and_one_set_by_hand_is_kept(standard):
    framework, onboarding, _adoption, _renewal = standard
    self_serve = FrameworkFactory(name="Self-serve", is_default=False)
    trial = PhaseFactory(framework=self_serve, name="Trial", position=0, entry_rules=[])
    smb = SegmentFactory(name="SMB")
    self_serve.segments.add(smb)
    in_segment = AccountFactory(segment=smb)
    elsewhere = AccountFactory(segment=SegmentFactory(name="Enterprise"))
    chosen = AccountFactory(segment=smb)
    services.place_account(account=chosen, framework=framework, actor=None)
    placement.place_all(now=NOW)
    assert (_placement(in_segment).framework, _placement(in_segment).phase) == (self_serve, trial)
    assert _placement(elsewhere).phase == onboarding
    assert (_placement(chosen).framework, _placement(chosen).phase) == (framework, onboarding)


def test_milestones_key_features_and_health_rules(standard):
    framework, onboarding, _adoption, _renewal = standard
    first = MilestoneDefinition.objects.create(framework=framework, key="first-report", name="First report")
    value = PhaseFactory(
        framework=framework,
        name="Value",
        position=5,
        entry_rules=[
            {"milestone": "first-report"},
            {"key_features": {"at_least": 2}},
            {"health": {"grades": ["green", "yellow"], "at_least": 50}},
        ],
    )
    for name in ("Report created", "Dashboard shared"):
        KeyFeature.objects.create(event=name)
    version = ScorecardVersion.objects.filter(
        scorecard__in=Scorecard.objects.all()
    ).first() or ScorecardVersion.objects.create(
        scorecard=Scorecard.objects.create(name="Default"), number=1, definition={}
    )
    ready, unhealthy, no_milestone = AccountFactory(), AccountFactory(), AccountFactory()
    for account in (ready, unhealthy, no_milestone):
        for name in ("Report created", "Dashboard shared"):
            DailyEventRollup.objects.create(
                account=account, day=TODAY - timedelta(days=20), event=name, events=1, users=1
            )
    for account in (ready, unhealthy):
        MilestoneReached.objects.create(account=account, milestone=first, reached_on=TODAY, source="rule")
    for account, score, grade in ((ready, 80, "green"), (unhealthy, 30, "red"), (no_milestone, 90, "green")):
        HealthScore.objects.create(account=account, day=TODAY, version=version, score=score, grade=grade)
    placement.place_all(now=NOW)
    assert _placement(ready).phase == value
    assert _placement(unhealthy).phase == onboarding
    assert _placement(no_milestone).phase == onboarding


def test_an_override_holds_until_the_rules_agree(standard, leader):
    _framework, onboarding, adoption, _renewal = standard
    account = AccountFactory()
    SubscriptionFactory(account=account, started_on=TODAY - timedelta(days=100), renewal_date=None)
    placement.place_all(now=NOW)
    services.override_phase(account=account, phase=adoption, reason="Kick-off done early", actor=leader)
    held = _placement(account)
    assert (held.phase, held.override_phase, held.override_by) == (adoption, adoption, leader)
    entry = TimelineEntry.objects.filter(account=account, kind="phase_changed").order_by("-id").first()
    assert entry.data["override"] == "Kick-off done early"
    placement.place_all(now=NOW + timedelta(hours=1))
    assert _placement(account).phase == adoption  # the rules say onboarding; the override stands
    assert _placement(account).ruled_phase == onboarding
    _usage(account, users=9)
    stats = placement.place_all(now=NOW + timedelta(hours=2))
    agreed = _placement(account)
    assert stats.overrides_dropped == 1
    assert (agreed.phase, agreed.override_phase, agreed.override_reason) == (adoption, None, "")


def test_an_override_needs_a_reason_and_a_phase_of_the_framework(standard, leader):
    _framework, _onboarding, adoption, _renewal = standard
    other = PhaseFactory(framework=FrameworkFactory(name="Other", is_default=False), name="Elsewhere")
    account = AccountFactory()
    placement.place_all(now=NOW)
    with pytest.raises(ValidationError) as error:
        services.override_phase(account=account, phase=adoption, reason="  ", actor=leader)
    assert "reason" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.override_phase(account=account, phase=other, reason="x" * 10, actor=leader)
    assert "phase" in error.value.message_dict
    with pytest.raises(ValidationError):
        services.override_phase(account=account, phase=adoption, reason="x" * 100_000, actor=leader)
    assert _placement(account).override_phase is None


def test_lifting_an_override_lets_the_rules_place_it_again(standard, leader):
    _framework, onboarding, adoption, _renewal = standard
    account = AccountFactory()
    placement.place_all(now=NOW)
    services.override_phase(account=account, phase=adoption, reason="Asked by the sponsor", actor=leader)
    lifted = services.lift_override(account=account, actor=leader)
    assert lifted is not None
    assert (lifted.phase, lifted.override_phase) == (onboarding, None)
    assert services.lift_override(account=account, actor=leader).phase == onboarding  # idempotent


def test_a_run_leaves_an_override_saved_after_it_read(standard, leader):
    """The writer's updates are conditional on what the run read: a leader's override saved in
    between is not overwritten."""
    _framework, onboarding, adoption, renewal = standard
    account = AccountFactory()
    placement.place_all(now=NOW)
    plan = placement.Plan.load()
    SubscriptionFactory(account=account, started_on=TODAY, renewal_date=TODAY + timedelta(days=10))
    rows, facts = placement.read_rows(plan, None, TODAY)
    changed = placement.decide(plan, rows, facts)
    assert [p.phase_id for p in changed] == [renewal.pk]
    services.override_phase(account=account, phase=adoption, reason="Meanwhile", actor=leader)
    services.record_rule_placements(changed, now=NOW + timedelta(hours=1))
    assert _placement(account).phase == adoption
    assert onboarding != renewal


def test_place_accounts_places_only_those(standard):
    one, two = AccountFactory(), AccountFactory()
    stats = placement.place_accounts([one.pk])
    assert stats.accounts == 1
    assert AccountPlacement.objects.filter(account=one).exists()
    assert not AccountPlacement.objects.filter(account=two).exists()
    assert placement.place_accounts([]).accounts == 0


def test_no_framework_means_no_phase():
    account = AccountFactory()
    placement.place_all(now=NOW)
    row = _placement(account)
    assert (row.framework, row.phase) == (None, None)
    assert not TimelineEntry.objects.filter(account=account, kind="phase_changed").exists()


def test_next_phase_rules_say_which_hold(standard):
    _framework, _onboarding, adoption, _renewal = standard
    account = AccountFactory()
    _usage(account, users=5)
    placement.place_all(now=NOW)
    following, rules = placement.next_phase_rules(account, _placement(account), now=NOW)
    assert following == adoption
    assert [rule.holds for rule in rules] == [False, True]  # not 30 days yet; 5 active users


@pytest.mark.parametrize("days", [0, 29, 30, 31])
def test_days_since_start_bound(standard, days):
    _framework, onboarding, adoption, _renewal = standard
    account = AccountFactory()
    SubscriptionFactory(
        account=account, started_on=date(2026, 6, 15) - timedelta(days=days), renewal_date=None
    )
    _usage(account, users=3)
    placement.place_all(now=NOW)
    assert _placement(account).phase == (adoption if days >= 30 else onboarding)


@pytest.mark.django_db(transaction=True)  # events settle only once their transaction commits
def test_domain_events_place_the_account_again(standard):
    from touchpoint.events.services import record_event
    from touchpoint.success import placement_plugins

    _framework, onboarding, _adoption, renewal = standard
    account, other = AccountFactory(), AccountFactory()
    placement.place_all(now=NOW)
    placement_plugins.follow_events()  # catch up with what came before
    subscription = SubscriptionFactory(
        account=account,
        started_on=date.today() - timedelta(days=200),
        renewal_date=date.today() + timedelta(days=30),
    )
    SubscriptionFactory(
        account=other,
        started_on=date.today() - timedelta(days=200),
        renewal_date=date.today() + timedelta(days=30),
    )
    record_event(kind="subscription.created", account=account, subject=subscription)
    # On PostgreSQL an event is handed out once every older transaction in the cluster has ended.
    read, deadline = 0, time.monotonic() + 20
    while not read and time.monotonic() < deadline:
        read = placement_plugins.follow_events()
        if not read:
            time.sleep(0.2)
    assert read == 1
    assert _placement(account).phase == renewal
    assert _placement(other).phase == onboarding  # no event about it: the daily run will move it
    assert placement_plugins.follow_events() == 0


def test_the_daily_run_is_scheduled_and_the_task_places_everyone(standard):
    from touchpoint.scheduler.registry import registered_schedules
    from touchpoint.success.placement_plugins import place_all_task

    assert "success.placement" in {schedule.name for schedule in registered_schedules()}
    account = AccountFactory()
    place_all_task.call()
    assert AccountPlacement.objects.filter(account=account, phase__isnull=False).exists()


def test_the_demo_step_places_by_the_rules_at_the_end_of_the_window(standard):
    from collections import Counter
    from types import SimpleNamespace

    from touchpoint.success.demo_placement import success_placement

    _framework, _onboarding, adoption, _renewal = standard
    account = AccountFactory()
    SubscriptionFactory(account=account, started_on=TODAY - timedelta(days=60), renewal_date=None)
    _usage(account, users=4)
    ctx = SimpleNamespace(end=NOW, counts=Counter(), shared={})
    success_placement(ctx)
    assert _placement(account).phase == adoption
    assert ctx.counts["success phase moves"] == 1
    assert TimelineEntry.objects.get(account=account, kind="phase_changed").occurred_at < NOW
