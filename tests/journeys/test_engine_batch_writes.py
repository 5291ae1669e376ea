"""What the engine's batches write with: tasks.services.create_tasks_bulk (recorded as create_task
records) and touchpoint.bulk.insert_rows (values as the ORM would store them)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from tests.factories import AccountFactory, UserFactory
from tests.journeys.engine_support import live_version
from touchpoint.bulk import insert_rows
from touchpoint.events.models import DomainEvent
from touchpoint.journeys.models import Enrollment, OutboxRow, OutboxStatus, StepVisit
from touchpoint.tasks.models import Task, TaskPriority, TaskSource, TaskStatus
from touchpoint.tasks.services import NewTask, create_task, create_tasks_bulk
from touchpoint.users.models import AuditLogEntry

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)


def test_bulk_tasks_are_recorded_as_create_task_records_one():
    owner = UserFactory()
    first, second = AccountFactory(owner=owner), AccountFactory(owner=None)
    due = timezone.localdate() + timedelta(days=3)
    single = create_task(account=first, title="Call", due_on=due, actor=None, source=TaskSource.JOURNEY)
    made = create_tasks_bulk(
        tasks=[
            NewTask(account=first, title="  Call  ", due_on=due),
            NewTask(account=second, title="Review", due_on=due, priority=TaskPriority.HIGH, type="review"),
        ],
        source=TaskSource.JOURNEY,
        at=T0,
    )
    assert [t.title for t in made] == ["Call", "Review"] and all(t.pk for t in made)
    stored = Task.objects.get(pk=made[0].pk)
    for name in ("account_id", "title", "owner_id", "due_on", "priority", "type", "status", "source"):
        assert getattr(stored, name) == getattr(single, name), name
    assert stored.created_at == T0 and stored.status == TaskStatus.OPEN
    assert Task.objects.get(pk=made[1].pk).owner_id is None  # the account's owner: nobody

    def audit_of(task):
        entry = AuditLogEntry.objects.get(object_type="tasks.task", object_id=str(task.pk))
        return (entry.actor_id, entry.action, entry.object_repr, entry.changes)

    assert audit_of(made[0]) == audit_of(single)

    def event_of(task):
        event = DomainEvent.objects.get(kind="task.created", subject_id=task.pk)
        return (event.account_id, event.subject_type, event.payload, event.actor_id)

    assert event_of(made[0]) == event_of(single)
    assert DomainEvent.objects.get(subject_id=made[0].pk, kind="task.created").occurred_at == T0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"due_on": date(2040, 1, 1)}, "due_on"),
        ({"priority": 9}, "priority"),
        ({"type": "nap"}, "type"),
    ],
)
def test_one_invalid_bulk_task_refuses_them_all(change, field):
    account = AccountFactory()
    good = NewTask(account=account, title="Fine", due_on=timezone.localdate())
    bad = NewTask(**{"account": account, "title": "Bad", "due_on": timezone.localdate(), **change})
    with pytest.raises(ValidationError) as error:
        create_tasks_bulk(tasks=[good, bad], source=TaskSource.JOURNEY)
    assert field in error.value.message_dict
    assert not Task.objects.exists() and not DomainEvent.objects.filter(kind="task.created").exists()


def test_insert_rows_stores_what_the_orm_would_and_returns_ids_in_order():
    version = live_version([{"id": "wait", "type": "wait", "days": 1}])
    account = AccountFactory()
    enrollment = Enrollment.objects.create(
        journey=version.journey,
        version=version,
        account=account,
        subject_key=f"account:{account.pk}",
        step_id="w",
    )
    ids = insert_rows(
        OutboxRow,
        [
            {
                "enrollment_id": enrollment.pk,
                "step_id": f"s{n}",
                "kind": "email",
                "account_id": account.pk,
                "status": OutboxStatus.PENDING,
                "payload": {"n": n, "text": "héllo", "list": [1, None]},
                "next_attempt_at": T0 + timedelta(minutes=n),
            }
            for n in range(3)
        ],
        returning="id",
    )
    rows = list(OutboxRow.objects.filter(pk__in=ids))
    by_id = {row.pk: row for row in rows}
    assert [by_id[pk].step_id for pk in ids] == ["s0", "s1", "s2"]
    row = by_id[ids[2]]
    assert row.payload == {"n": 2, "text": "héllo", "list": [1, None]}
    assert row.next_attempt_at == T0 + timedelta(minutes=2)
    # What the rows did not name takes the model's defaults.
    assert (row.recipient_key, row.attempts, row.language, row.sent_at, row.contact_id) == (
        "",
        0,
        "",
        None,
        None,
    )
    assert abs(row.created_at - timezone.now()) < timedelta(minutes=1)


def test_insert_rows_skips_or_refuses_a_duplicate():
    version = live_version([{"id": "wait", "type": "wait", "days": 1}])
    account = AccountFactory()
    enrollment = Enrollment.objects.create(
        journey=version.journey,
        version=version,
        account=account,
        subject_key=f"account:{account.pk}",
        step_id="w",
    )
    visit = {"enrollment_id": enrollment.pk, "version_id": version.pk, "step_id": "w", "entered_at": T0}
    insert_rows(StepVisit, [visit])
    insert_rows(StepVisit, [visit, {**visit, "step_id": "x"}], ignore_conflicts=True)
    assert sorted(StepVisit.objects.values_list("step_id", flat=True)) == ["w", "x"]
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_rows(StepVisit, [visit])
    with pytest.raises(ValueError):
        insert_rows(StepVisit, [visit], ignore_conflicts=True, returning="id")


def test_insert_rows_writes_many_rows_in_chunks():
    version = live_version([{"id": "wait", "type": "wait", "days": 1}])
    account = AccountFactory()
    enrollment = Enrollment.objects.create(
        journey=version.journey,
        version=version,
        account=account,
        subject_key=f"account:{account.pk}",
        step_id="w",
    )
    rows = [
        {"enrollment_id": enrollment.pk, "version_id": version.pk, "step_id": f"s{n}", "entered_at": T0}
        for n in range(700)  # more than one statement's parameters on SQLite
    ]
    ids = insert_rows(StepVisit, rows, returning="id")
    assert len(ids) == 700 == len(set(ids)) == StepVisit.objects.count()
    assert StepVisit.objects.get(pk=ids[-1]).step_id == "s699"
