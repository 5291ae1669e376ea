"""The engine's batches: many due enrollments claimed, decided and written together, and still each one
written whole or not at all, its effects exactly once, a failing one failing alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import AccountFactory, ContactFactory, UserFactory
from tests.journeys.engine_support import WELCOME, live_version
from touchpoint.accounts.models import AccountTag
from touchpoint.events.models import DomainEvent
from touchpoint.journeys import engine
from touchpoint.journeys.models import (
    Enrollment,
    EnrollmentStatus,
    OutboxRow,
    OutboxStatus,
    StepVisit,
)
from touchpoint.tasks.models import Task, TaskSource
from touchpoint.users.models import AuditLogEntry

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 6, 1, 9, tzinfo=UTC)
LATER = T0 + timedelta(days=1)

MAIL_OR_CALL = [
    {"id": "wait", "type": "wait", "days": 1},
    {
        "id": "split",
        "type": "split",
        "when": {"field": "account.engagement_model", "op": "eq", "value": "low_touch"},
        "then": [{"id": "mail", "type": "email", "message": "welcome", "to": ["champion"]}],
        "else": [{"id": "call", "type": "task", "title": "Call them"}],
    },
]


@pytest.fixture
def owner():
    return UserFactory(email="owner@example.com")


def enrolled(version, count, *, owner, models=("low", "high")):
    """`count` accounts (each with a champion) enrolled at T0, their engagement models in turn."""
    found = []
    for n in range(count):
        account = AccountFactory(owner=owner, engagement_model=models[n % len(models)], segment=None)
        ContactFactory(account=account, roles=["champion"], email=f"champion{n}@example.com")
        found.append(engine.enroll(version=version, account=account, at=T0))
    return found


def statuses(enrollments):
    by_pk = dict(Enrollment.objects.filter(pk__in=[e.pk for e in enrollments]).values_list("pk", "status"))
    return [by_pk[e.pk] for e in enrollments]


def test_a_batch_advances_every_due_enrollment_with_its_effects_once(owner):
    version = live_version(MAIL_OR_CALL, messages={"welcome": WELCOME})
    enrollments = enrolled(version, 30, owner=owner)
    assert engine.advance_due(now=LATER, limit=500) == 30
    assert statuses(enrollments) == [EnrollmentStatus.COMPLETED] * 30
    assert OutboxRow.objects.filter(kind="email", status=OutboxStatus.PENDING).count() == 15
    assert OutboxRow.objects.filter(kind="task", status=OutboxStatus.SENT).count() == 15
    tasks = Task.objects.filter(source=TaskSource.JOURNEY)
    assert tasks.count() == 15 and {t.owner_id for t in tasks} == {owner.pk}
    # Each task row names its task; each task has its audit entry and its domain event.
    named = set(OutboxRow.objects.filter(kind="task").values_list("payload__task_id", flat=True))
    assert named == set(tasks.values_list("pk", flat=True))
    assert AuditLogEntry.objects.filter(object_type="tasks.task", action="create").count() == 15
    assert DomainEvent.objects.filter(kind="task.created", subject_id__in=named).count() == 15
    # wait (left "done"), split, then the branch's step: three visits each, none open.
    assert StepVisit.objects.count() == 90
    assert not StepVisit.objects.filter(left_at__isnull=True).exists()
    assert engine.advance_due(now=LATER + timedelta(days=5), limit=500) == 0  # nothing left to do


def test_one_action_that_cannot_run_fails_alone_in_the_middle_of_a_batch(owner):
    fine = live_version(MAIL_OR_CALL, messages={"welcome": WELCOME})
    broken = live_version(
        [
            {"id": "wait", "type": "wait", "days": 1},
            {"id": "tag", "type": "tag", "tag": "reached"},
            {"id": "run", "type": "playbook", "playbook": "No such playbook"},
        ],
        key="broken",
    )
    before = enrolled(fine, 10, owner=owner)
    failing = enrolled(broken, 1, owner=owner)[0]
    after = enrolled(fine, 10, owner=owner)
    assert engine.advance_due(now=LATER, limit=500) == 21

    failing.refresh_from_db()
    assert failing.status == EnrollmentStatus.FAILED and "No such playbook" in failing.exit_reason
    # Nothing of its half-done step stayed: not the tag it had applied, not the rows.
    assert not OutboxRow.objects.filter(enrollment=failing).exists()
    assert not AccountTag.objects.filter(name="reached").exists()
    assert list(StepVisit.objects.filter(enrollment=failing).values_list("step_id", "outcome")) == [
        ("wait", "failed")
    ]
    # The others, before and after it in the batch, moved on and wrote each effect once.
    assert statuses(before + after) == [EnrollmentStatus.COMPLETED] * 20
    assert OutboxRow.objects.exclude(enrollment=failing).count() == 20
    assert Task.objects.count() == 10
    assert StepVisit.objects.exclude(enrollment=failing).count() == 60


def test_a_task_the_tasks_service_refuses_fails_its_enrollment_only(owner):
    fine = live_version(MAIL_OR_CALL, messages={"welcome": WELCOME})
    # More than five years ahead: the tasks service refuses it (the whole bulk insert, at first).
    too_far = live_version(
        [
            {"id": "wait", "type": "wait", "days": 1},
            {"id": "call", "type": "task", "title": "Later", "due_in_days": 3000},
        ],
        key="too-far",
    )
    first = enrolled(fine, 6, owner=owner, models=("high",))
    failing = enrolled(too_far, 1, owner=owner)[0]
    last = enrolled(fine, 6, owner=owner, models=("high",))
    assert engine.advance_due(now=LATER, limit=500) == 13
    failing.refresh_from_db()
    assert failing.status == EnrollmentStatus.FAILED and "five years" in failing.exit_reason
    assert statuses(first + last) == [EnrollmentStatus.COMPLETED] * 12
    # The batch was written again without it: each other task exactly once, none of the failing one.
    assert Task.objects.count() == 12
    assert not Task.objects.filter(title="Later").exists()
    assert AuditLogEntry.objects.filter(object_type="tasks.task").count() == 12
    assert DomainEvent.objects.filter(kind="task.created").count() == 12


def test_an_enrollment_whose_step_is_gone_fails_without_holding_up_the_batch(owner):
    version = live_version(MAIL_OR_CALL, messages={"welcome": WELCOME})
    enrollments = enrolled(version, 5, owner=owner)
    lost = enrollments[2]
    Enrollment.objects.filter(pk=lost.pk).update(step_id="gone")
    assert engine.advance_due(now=LATER, limit=500) == 5
    lost.refresh_from_db()
    assert lost.status == EnrollmentStatus.FAILED and "'gone'" in lost.exit_reason
    others = [e for e in enrollments if e.pk != lost.pk]
    assert statuses(others) == [EnrollmentStatus.COMPLETED] * 4


def test_an_effect_written_before_is_not_written_again_in_a_batch(owner):
    """A replay (an enrollment moved back, or onto a version with the same steps) finds its rows."""
    version = live_version(MAIL_OR_CALL, messages={"welcome": WELCOME})
    enrollments = enrolled(version, 8, owner=owner)
    assert engine.advance_due(now=LATER, limit=500) == 8
    rows, tasks = OutboxRow.objects.count(), Task.objects.count()
    Enrollment.objects.filter(pk__in=[e.pk for e in enrollments]).update(
        status=EnrollmentStatus.ACTIVE, step_id="wait", step_entered_at=T0, wake_at=LATER, ended_at=None
    )
    assert engine.advance_due(now=LATER, limit=500) == 8
    assert statuses(enrollments) == [EnrollmentStatus.COMPLETED] * 8
    assert (OutboxRow.objects.count(), Task.objects.count()) == (rows, tasks)


def test_a_row_the_check_missed_breaks_the_unique_key_and_is_never_written_twice(owner, monkeypatch):
    """If the read of the rows already written missed one (a race), the unique key refuses the
    duplicate: that enrollment fails, nothing is doubled (not its task either), the others go on."""
    version = live_version(
        [{"id": "wait", "type": "wait", "days": 1}, {"id": "call", "type": "task", "title": "Call them"}]
    )
    enrollments = enrolled(version, 4, owner=owner)
    raced = enrollments[1]
    OutboxRow.objects.create(
        enrollment=raced, step_id="call", kind="task", recipient_key="", account_id=raced.account_id
    )
    monkeypatch.setattr(engine, "_written", lambda enrollment_ids: set())  # blind to what is there
    assert engine.advance_due(now=LATER, limit=500) == 4
    raced.refresh_from_db()
    assert raced.status == EnrollmentStatus.FAILED
    assert OutboxRow.objects.filter(enrollment=raced).count() == 1  # the one that was there
    assert Task.objects.count() == 3  # one per other enrollment; none for the raced one
    others = [e for e in enrollments if e.pk != raced.pk]
    assert statuses(others) == [EnrollmentStatus.COMPLETED] * 3


def test_an_account_written_by_one_enrollment_is_read_after_it_by_the_next(owner):
    """Two enrollments of one account in one batch: the second's condition sees the first's tag, as
    it would have one transaction after the other."""
    account = AccountFactory(owner=owner)
    tagger = live_version(
        [{"id": "wait", "type": "wait", "days": 1}, {"id": "tag", "type": "tag", "tag": "vip"}], key="tagger"
    )
    reader = live_version(
        [
            {"id": "wait", "type": "wait", "days": 1},
            {
                "id": "vip",
                "type": "split",
                "when": {"field": "account.tags", "op": "contains", "value": "vip"},
                "then": [{"id": "yes", "type": "tag", "tag": "seen-vip"}],
                "else": [{"id": "no", "type": "tag", "tag": "missed-vip"}],
            },
        ],
        key="reader",
    )
    engine.enroll(version=tagger, account=account, at=T0)
    engine.enroll(version=reader, account=account, at=T0 + timedelta(minutes=1))
    assert engine.advance_due(now=LATER + timedelta(hours=1), limit=500) == 2
    assert set(AccountTag.objects.filter(account=account).values_list("name", flat=True)) == {
        "vip",
        "seen-vip",
    }


def test_a_batch_reads_and_writes_with_a_few_queries_whatever_its_size(owner):
    version = live_version(MAIL_OR_CALL, messages={"welcome": WELCOME})

    def queries_for(count):
        enrolled(version, count, owner=owner)
        with CaptureQueriesContext(connection) as captured:
            assert engine.advance_due(now=LATER, limit=500) == count
        return len(captured.captured_queries)

    small = queries_for(4)
    large = queries_for(40)
    assert large == small  # nothing per enrollment
    assert large <= 30


def test_each_version_is_parsed_once_for_all_its_enrollments(owner, monkeypatch):
    version = live_version(MAIL_OR_CALL, messages={"welcome": WELCOME})
    enrolled(version, 12, owner=owner)
    engine.forget_graphs()
    parsed = []
    real_parse = engine.parse
    monkeypatch.setattr(engine, "parse", lambda data: parsed.append(1) or real_parse(data))
    assert engine.advance_due(now=LATER, limit=500) == 12
    assert len(parsed) == 1


def test_a_version_with_the_id_of_a_forgotten_one_is_not_mistaken_for_it(owner):
    """The cache keys a version by id and creation moment (SQLite reuses ids after a rollback)."""
    version = live_version(MAIL_OR_CALL, messages={"welcome": WELCOME})
    first = engine.graph_of(version)
    version.created_at = version.created_at + timedelta(seconds=1)
    version.definition = {**version.definition, "steps": version.definition["steps"][:1]}
    assert engine.graph_of(version) is not first
    assert list(engine.graph_of(version).nodes) == ["wait"]


def test_the_limit_counts_enrollments_across_batches(owner, monkeypatch):
    monkeypatch.setattr(engine, "BATCH_SIZE", 4)
    version = live_version(MAIL_OR_CALL, messages={"welcome": WELCOME})
    enrollments = enrolled(version, 10, owner=owner)
    assert engine.advance_due(now=LATER, limit=7) == 7
    assert statuses(enrollments).count(EnrollmentStatus.COMPLETED) == 7
    assert engine.advance_due(now=LATER, limit=7) == 3
    assert engine.advance_due(now=LATER, limit=7) == 0


def test_enrolling_by_hand_is_audited_and_an_entry_is_not(owner):
    version = live_version([{"id": "wait", "type": "wait", "days": 1}])
    csm = UserFactory()
    by_hand = engine.enroll(version=version, account=AccountFactory(owner=owner), actor=csm)
    automatic = engine.enroll(version=version, account=AccountFactory(owner=owner))
    entry = AuditLogEntry.objects.get(action="journey.enrollment.enter")
    assert entry.actor == csm and entry.object_id == str(by_hand.pk)
    assert entry.changes == {"journey": version.journey_id, "version": 1, "subject": by_hand.subject_key}
    assert not AuditLogEntry.objects.filter(
        object_id=str(automatic.pk), object_type="journeys.enrollment"
    ).exists()
