"""The live engine on the database: enrolling (live version, audience, re-entry), advancing due
enrollments through every kind of step, the outbox rows they write, events, exits and failures."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from tests.factories import AccountFactory, ContactFactory, SubscriptionFactory, UserFactory
from tests.journeys.engine_support import WELCOME, live_version
from touchpoint.accounts.models import AccountTag
from touchpoint.journeys import engine
from touchpoint.journeys.interpreter import Effect
from touchpoint.journeys.models import (
    Enrollment,
    EnrollmentStatus,
    JourneyStatus,
    OutboxKind,
    OutboxRow,
    OutboxStatus,
    StepVisit,
)
from touchpoint.tasks.models import Task, TaskSource

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 6, 1, 9, tzinfo=UTC)


@pytest.fixture
def owner():
    return UserFactory(email="owner@example.com")


@pytest.fixture
def account(owner):
    return AccountFactory(owner=owner, engagement_model="low")


def visits(enrollment):
    return list(
        StepVisit.objects.filter(enrollment=enrollment).order_by("id").values_list("step_id", "outcome")
    )


# --- enrolling ---------------------------------------------------------------------------------------


def test_enroll_records_the_first_step_and_runs_until_a_wait(account):
    version = live_version(
        [{"id": "wait", "type": "wait", "days": 2}, {"id": "tag", "type": "tag", "tag": "welcomed"}]
    )
    enrollment = engine.enroll(version=version, account=account, at=T0)
    assert enrollment is not None and enrollment.status == EnrollmentStatus.ACTIVE
    assert enrollment.subject_key == f"account:{account.pk}"
    assert enrollment.step_id == "wait" and enrollment.wake_at == T0 + timedelta(days=2)
    assert visits(enrollment) == [("wait", "")]

    assert engine.advance_due(now=T0 + timedelta(days=1)) == 0  # not due yet
    assert engine.advance_due(now=T0 + timedelta(days=2)) == 1
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.COMPLETED and enrollment.step_id == ""
    assert visits(enrollment) == [("wait", "done"), ("tag", "")]
    assert AccountTag.objects.filter(account=account, name="welcomed").exists()
    row = OutboxRow.objects.get(enrollment=enrollment)
    assert (row.kind, row.status, row.recipient_key) == ("tag", OutboxStatus.SENT, "")


def test_enroll_only_on_the_live_version_of_a_live_journey(account):
    version = live_version([{"id": "wait", "type": "wait", "days": 2}])
    journey = version.journey
    other = journey.versions.create(number=2, definition=version.definition)
    assert engine.enroll(version=other, account=account) is None
    journey.status = JourneyStatus.PAUSED
    journey.save()
    assert engine.enroll(version=version, account=account) is None
    assert not Enrollment.objects.exists()


def test_the_same_entry_twice_is_refused_without_an_error(account):
    version = live_version([{"id": "wait", "type": "wait", "days": 2}], reentry={"policy": "after_exit"})
    assert engine.enroll(version=version, account=account, entry_key="k") is not None
    assert engine.enroll(version=version, account=account, entry_key="k") is None
    assert Enrollment.objects.count() == 1


@pytest.mark.parametrize(
    ("policy", "days_later", "enters"),
    [
        ({"policy": "never"}, 400, False),
        ({"policy": "after_exit"}, 0, True),
        ({"policy": "after_days", "days": 30}, 10, False),
        ({"policy": "after_days", "days": 30}, 31, True),
    ],
)
def test_reentry_policies_after_an_ended_enrollment(account, policy, days_later, enters):
    version = live_version([{"id": "tag", "type": "tag", "tag": "x"}], reentry=policy)
    first = engine.enroll(version=version, account=account, entry_key="a", at=T0)
    assert first.status == EnrollmentStatus.COMPLETED
    again = engine.enroll(version=version, account=account, entry_key="b", at=T0 + timedelta(days=days_later))
    assert (again is not None) is enters


@pytest.mark.parametrize("policy", [{"policy": "after_exit"}, {"policy": "after_days", "days": 1}])
def test_no_second_enrollment_while_one_is_active(account, policy):
    version = live_version([{"id": "wait", "type": "wait", "days": 5}], reentry=policy)
    assert engine.enroll(version=version, account=account, entry_key="a", at=T0) is not None
    assert engine.enroll(version=version, account=account, entry_key="b", at=T0 + timedelta(days=2)) is None


def test_audience_roles_and_conditions(account):
    version = live_version(
        [{"id": "wait", "type": "wait", "days": 5}],
        subject="contact",
        audience={
            "roles": ["champion"],
            "when": {"field": "account.engagement_model", "op": "eq", "value": "low_touch"},
        },
    )
    champion = ContactFactory(account=account, roles=["champion"])
    user = ContactFactory(account=account, roles=["user"])
    assert engine.enroll(version=version, account=account, contact=user) is None
    assert engine.enroll(version=version, account=account) is None  # a contact journey needs a contact
    elsewhere = ContactFactory(roles=["champion"])
    assert engine.enroll(version=version, account=account, contact=elsewhere) is None
    enrollment = engine.enroll(version=version, account=account, contact=champion)
    assert enrollment is not None and enrollment.subject_key == f"contact:{champion.pk}"
    high = AccountFactory(engagement_model="high")
    high_champion = ContactFactory(account=high, roles=["champion"])
    assert engine.enroll(version=version, account=high, contact=high_champion) is None


# --- steps --------------------------------------------------------------------------------------------


def test_split_takes_the_branch_its_condition_picks_and_rejoins(account):
    version = live_version(
        [
            {
                "id": "low",
                "type": "split",
                "when": {"field": "account.engagement_model", "op": "eq", "value": "low_touch"},
                "then": [{"id": "tag-low", "type": "tag", "tag": "low"}],
                "else": [{"id": "tag-other", "type": "tag", "tag": "other"}],
            },
            {"id": "after", "type": "tag", "tag": "after"},
        ]
    )
    enrollment = engine.enroll(version=version, account=account)
    assert visits(enrollment) == [("low", "then"), ("tag-low", ""), ("after", "")]
    assert set(AccountTag.objects.filter(account=account).values_list("name", flat=True)) == {"low", "after"}


def test_random_split_draws_by_the_percentages_and_keeps_the_draw(account):
    version = live_version(
        [
            {
                "id": "ab",
                "type": "random",
                "arms": [
                    {"arm": "A", "percent": 50, "steps": [{"id": "wait-a", "type": "wait", "days": 1}]},
                    {"arm": "B", "percent": 50, "steps": [{"id": "wait-b", "type": "wait", "days": 1}]},
                ],
            }
        ],
        reentry={"policy": "after_exit"},
    )
    arms = []
    for _ in range(60):
        enrollment = engine.enroll(version=version, account=AccountFactory())
        arms.append(enrollment.choices["ab"])
        assert enrollment.step_id == f"wait-{enrollment.choices['ab'].lower()}"
    assert 15 < arms.count("A") < 45


def test_wait_until_days_before_the_renewal(account):
    SubscriptionFactory(account=account, renewal_date=date(2026, 9, 1), status="active")
    version = live_version([{"id": "until", "type": "wait", "until": "renewal", "days_before": 30}])
    enrollment = engine.enroll(version=version, account=account, at=T0)
    assert enrollment.wake_at.date() == date(2026, 8, 2)


def test_wait_for_an_event_wakes_on_it_or_times_out(account):
    steps = [
        {"id": "await", "type": "wait", "event": "Report created", "timeout_days": 7},
        {"id": "tag", "type": "tag", "tag": "done"},
    ]
    version = live_version(steps, reentry={"policy": "after_exit"})
    woken = engine.enroll(version=version, account=account, at=T0)
    assert woken.waiting_for == "Report created" and woken.wake_at == T0 + timedelta(days=7)
    other = AccountFactory()
    timed_out = engine.enroll(version=version, account=other, at=T0)

    assert engine.notify_event(account_id=other.pk, name="Something else", at=T0 + timedelta(days=1)) == 0
    assert engine.notify_event(account_id=account.pk, name="Report created", at=T0 + timedelta(days=1)) == 1
    assert engine.advance_due(now=T0 + timedelta(days=1, minutes=1)) == 1
    woken.refresh_from_db()
    assert woken.status == EnrollmentStatus.COMPLETED
    assert visits(woken) == [("await", "event"), ("tag", "")]

    assert engine.advance_due(now=T0 + timedelta(days=7)) == 1
    timed_out.refresh_from_db()
    assert visits(timed_out) == [("await", "timeout"), ("tag", "")]


def test_a_wait_that_times_out_into_exit(account):
    version = live_version(
        [{"id": "await", "type": "wait", "event": "Signed", "timeout_days": 3, "on_timeout": "exit"}]
    )
    enrollment = engine.enroll(version=version, account=account, at=T0)
    engine.advance_due(now=T0 + timedelta(days=3))
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.exit_reason) == (EnrollmentStatus.EXITED, "timeout")


def test_a_persons_event_wakes_only_that_persons_enrollment(account):
    version = live_version(
        [{"id": "await", "type": "wait", "event": "Invite sent", "timeout_days": 7}],
        subject="contact",
        reentry={"policy": "after_exit"},
    )
    ann, bob = ContactFactory(account=account), ContactFactory(account=account)
    engine.enroll(version=version, account=account, contact=ann, at=T0)
    engine.enroll(version=version, account=account, contact=bob, at=T0)
    assert (
        engine.notify_event(
            account_id=account.pk, contact_id=ann.pk, name="Invite sent", at=T0 + timedelta(hours=1)
        )
        == 1
    )
    assert Enrollment.objects.get(contact=ann).event_seen_at is not None
    assert Enrollment.objects.get(contact=bob).event_seen_at is None


def _messages():
    return {"welcome": WELCOME}


def test_email_to_the_subject_contact_is_pending_for_the_sender(account):
    version = live_version(
        [{"id": "mail", "type": "email", "message": "welcome"}], subject="contact", messages=_messages()
    )
    ann = ContactFactory(account=account, email="ann@example.com")
    enrollment = engine.enroll(version=version, account=account, contact=ann)
    row = OutboxRow.objects.get(enrollment=enrollment)
    assert (row.kind, row.status, row.recipient_key, row.contact, row.to_address) == (
        "email",
        OutboxStatus.PENDING,
        f"contact:{ann.pk}",
        ann,
        "ann@example.com",
    )
    assert row.payload["message"] == "welcome"


def test_email_to_roles_reaches_each_person_once_and_suppresses_who_has_no_address(account):
    version = live_version(
        [{"id": "mail", "type": "email", "message": "welcome", "to": ["champion", "decision_maker"]}],
        messages=_messages(),
    )
    both = ContactFactory(account=account, roles=["champion", "decision_maker"])
    no_address = ContactFactory(account=account, email="", roles=["decision_maker"])
    ContactFactory(account=account, roles=["user"])
    enrollment = engine.enroll(version=version, account=account)
    rows = {row.recipient_key: row for row in OutboxRow.objects.filter(enrollment=enrollment)}
    assert set(rows) == {f"contact:{both.pk}", f"contact:{no_address.pk}"}
    assert rows[f"contact:{both.pk}"].status == OutboxStatus.PENDING
    assert (rows[f"contact:{no_address.pk}"].status, rows[f"contact:{no_address.pk}"].suppressed_reason) == (
        OutboxStatus.SUPPRESSED,
        "no_recipient",
    )


def test_a_message_with_nobody_to_reach_is_one_suppressed_row(account):
    version = live_version(
        [{"id": "mail", "type": "email", "message": "welcome", "to": ["billing"]}], messages=_messages()
    )
    enrollment = engine.enroll(version=version, account=account)
    row = OutboxRow.objects.get(enrollment=enrollment)
    assert (row.status, row.suppressed_reason, row.recipient_key) == (
        OutboxStatus.SUPPRESSED,
        "no_recipient",
        "",
    )
    assert enrollment.status == EnrollmentStatus.COMPLETED


def test_in_app_messages_are_available_at_once_to_people_the_product_knows(account):
    version = live_version(
        [{"id": "nudge", "type": "in_app", "message": "welcome"}], subject="contact", messages=_messages()
    )
    known = ContactFactory(account=account, external_id="user-1")
    enrollment = engine.enroll(version=version, account=account, contact=known)
    row = OutboxRow.objects.get(enrollment=enrollment)
    assert (row.kind, row.status, row.to_address) == ("in_app", OutboxStatus.SENT, "user-1")
    assert row.sent_at is not None


@pytest.mark.parametrize(
    ("model", "kinds"),
    [("high", {"task"}), ("hybrid", {"task", "email"}), ("low", {"email"})],
)
def test_by_engagement_decides_task_or_message(owner, model, kinds):
    account = AccountFactory(owner=owner, engagement_model=model)
    ContactFactory(account=account, roles=["champion"])
    version = live_version(
        [{"id": "mail", "type": "email", "message": "welcome", "to": ["champion"], "by_engagement": True}],
        messages=_messages(),
    )
    enrollment = engine.enroll(version=version, account=account, at=T0)
    assert set(OutboxRow.objects.filter(enrollment=enrollment).values_list("kind", flat=True)) == kinds
    if "task" in kinds:
        task = Task.objects.get(account=account)
        assert (task.title, task.owner, task.source) == ("Welcome aboard", owner, TaskSource.JOURNEY)


def test_webhook_rows_wait_for_the_sender(account):
    version = live_version([{"id": "hook", "type": "webhook", "endpoint": "crm"}])
    enrollment = engine.enroll(version=version, account=account)
    row = OutboxRow.objects.get(enrollment=enrollment)
    assert (row.kind, row.status, row.payload["endpoint"]) == ("webhook", OutboxStatus.PENDING, "crm")


def test_goal_converts_and_exit_rule_exits_while_waiting(account):
    version = live_version(
        [{"id": "wait", "type": "wait", "days": 30}],
        goal={"field": "account.tags", "op": "contains", "value": "won"},
        exit_when=[{"field": "account.tags", "op": "contains", "value": "lost"}],
        reentry={"policy": "after_exit"},
    )
    winner, loser = account, AccountFactory()
    won = engine.enroll(version=version, account=winner, at=T0)
    lost = engine.enroll(version=version, account=loser, at=T0)
    AccountTag.objects.create(account=winner, name="won")
    AccountTag.objects.create(account=loser, name="lost")
    assert engine.advance_due(now=T0 + timedelta(days=1)) == 0  # nobody is due: the daily re-check makes them
    assert engine.recheck_active(now=T0 + timedelta(days=1)) == 2
    assert engine.advance_due(now=T0 + timedelta(days=1)) == 2
    won.refresh_from_db()
    lost.refresh_from_db()
    assert (won.status, won.exit_reason) == (EnrollmentStatus.CONVERTED, "goal")
    assert (lost.status, lost.exit_reason) == (EnrollmentStatus.EXITED, "exit rule")
    assert visits(won) == [("wait", "converted")]


def test_recheck_keeps_a_wait_running(account):
    version = live_version([{"id": "wait", "type": "wait", "days": 30}])
    enrollment = engine.enroll(version=version, account=account, at=T0)
    engine.recheck_active(now=T0 + timedelta(days=1))
    engine.advance_due(now=T0 + timedelta(days=1))
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.ACTIVE and enrollment.wake_at == T0 + timedelta(days=30)


def test_exit_step_and_exit_by_hand(account):
    version = live_version(
        [{"id": "bye", "type": "exit", "reason": "not for them"}, {"id": "never", "type": "tag", "tag": "x"}]
    )
    enrollment = engine.enroll(version=version, account=account)
    assert (enrollment.status, enrollment.exit_reason) == (EnrollmentStatus.EXITED, "not for them")
    assert visits(enrollment) == [("bye", "exit")]

    waiting = live_version([{"id": "wait", "type": "wait", "days": 3}], key="other")
    second = engine.enroll(version=waiting, account=account)
    engine.exit_enrollment(enrollment=second, reason="asked to stop")
    second.refresh_from_db()
    assert (second.status, second.exit_reason, second.wake_at) == (
        EnrollmentStatus.EXITED,
        "asked to stop",
        None,
    )
    assert visits(second) == [("wait", "exit")]


def test_paused_journeys_do_not_advance(account):
    version = live_version(
        [{"id": "wait", "type": "wait", "days": 1}, {"id": "tag", "type": "tag", "tag": "x"}]
    )
    enrollment = engine.enroll(version=version, account=account, at=T0)
    version.journey.status = JourneyStatus.PAUSED
    version.journey.save()
    assert engine.advance_due(now=T0 + timedelta(days=2)) == 0
    version.journey.status = JourneyStatus.LIVE
    version.journey.save()
    assert engine.advance_due(now=T0 + timedelta(days=2)) == 1
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.COMPLETED


def test_a_failing_action_fails_only_its_enrollment(account):
    version = live_version(
        [
            {"id": "wait", "type": "wait", "days": 1},
            {"id": "run", "type": "playbook", "playbook": "No such playbook"},
        ],
        reentry={"policy": "after_exit"},
    )
    fine = live_version(
        [{"id": "wait", "type": "wait", "days": 1}, {"id": "tag", "type": "tag", "tag": "ok"}], key="fine"
    )
    failing = engine.enroll(version=version, account=account, at=T0)
    healthy = engine.enroll(version=fine, account=account, at=T0)
    assert engine.advance_due(now=T0 + timedelta(days=1)) == 2
    failing.refresh_from_db()
    healthy.refresh_from_db()
    assert failing.status == EnrollmentStatus.FAILED
    assert "No such playbook" in failing.exit_reason
    assert not OutboxRow.objects.filter(enrollment=failing).exists()  # the half-done step left nothing
    assert visits(failing) == [("wait", "failed")]
    assert healthy.status == EnrollmentStatus.COMPLETED


def test_writing_an_effect_again_writes_nothing_twice(account):
    ContactFactory(account=account, roles=["champion"])
    version = live_version(
        [
            {"id": "tag", "type": "tag", "tag": "vip"},
            {"id": "mail", "type": "email", "message": "welcome", "to": ["champion"]},
        ],
        messages=_messages(),
    )
    enrollment = engine.enroll(version=version, account=account)
    graph = engine.graph_of(version)
    for effect in (
        Effect("tag", "tag", {"tag": "vip", "remove": False}),
        Effect("email", "mail", {"message": "welcome", "to": ["champion"]}),
    ):
        engine._write_effect(enrollment, effect, graph.definition, now=T0)
    assert OutboxRow.objects.filter(enrollment=enrollment).count() == 2


def test_mrr_condition_in_a_split(account):
    SubscriptionFactory(account=account, mrr=Decimal("100"))
    version = live_version(
        [
            {
                "id": "big",
                "type": "split",
                "when": {"field": "account.mrr", "op": "gte", "value": 1000},
                "then": [{"id": "tag-big", "type": "tag", "tag": "big"}],
            }
        ]
    )
    enrollment = engine.enroll(version=version, account=account)
    # the factory writes no MRR movement: MRR as the movements tell it is 0
    assert visits(enrollment) == [("big", "else")]


def test_a_survey_step_writes_an_email_row_naming_the_survey(account):
    # journeys/survey_steps.py: a survey is a message; its words come from the provider when sent.
    contact = ContactFactory(account=account, email="ann@example.com")
    enrollment = engine.enroll(
        version=live_version([{"id": "ask", "type": "survey", "survey": "nps"}]), account=account
    )
    row = OutboxRow.objects.get(enrollment=enrollment)
    assert (row.kind, row.status, row.contact_id) == (OutboxKind.EMAIL, OutboxStatus.PENDING, contact.pk)
    assert row.payload == {"survey": "nps", "to": ["subject"]}


def test_a_definition_that_no_longer_reads_fails_its_enrollments_and_others_go_on(account):
    broken = live_version([{"id": "wait", "type": "wait", "days": 1}])
    fine = live_version(
        [{"id": "wait", "type": "wait", "days": 1}, {"id": "tag", "type": "tag", "tag": "x"}], key="fine"
    )
    stuck = engine.enroll(version=broken, account=account, at=T0)
    healthy = engine.enroll(version=fine, account=account, at=T0)
    # A version never changes once saved: what stops reading is the code (an upgrade, so a new
    # process, which parses every version again).
    type(broken).objects.filter(pk=broken.pk).update(definition={"steps": "not a list"})
    engine.forget_graphs()
    assert engine.advance_due(now=T0 + timedelta(days=1)) == 2
    stuck.refresh_from_db()
    healthy.refresh_from_db()
    assert stuck.status == EnrollmentStatus.FAILED and stuck.exit_reason
    assert healthy.status == EnrollmentStatus.COMPLETED


def test_the_worker_advances_journeys_every_few_seconds_and_rechecks_daily(account):
    from touchpoint.scheduler.registry import registered_pollers, registered_schedules

    poller = next(p for p in registered_pollers() if p.name == "journeys.advance")
    assert poller.every <= 10
    version = live_version(
        [{"id": "tag", "type": "tag", "tag": "x"}, {"id": "wait", "type": "wait", "hours": 1}]
    )
    enrollment = engine.enroll(version=version, account=account, at=T0)
    assert poller.run() == 1  # T0 + 1 hour has long passed
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.COMPLETED
    schedule = next(s for s in registered_schedules() if s.name == "journeys.recheck")
    assert schedule.task.name.endswith("recheck_task")
