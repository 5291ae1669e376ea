"""tasks.services: a task is created, completed or cancelled in one transaction, and closing it is recorded."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from tests.factories import AccountFactory
from touchpoint.accounts.models import TimelineEntry
from touchpoint.accounts.timeline import entry_title
from touchpoint.events.models import DomainEvent
from touchpoint.tasks import services
from touchpoint.tasks.models import Task, TaskStatus

pytestmark = pytest.mark.django_db


def test_a_new_task_is_owned_by_the_account_owner_and_recorded(csm):
    account = AccountFactory(owner=csm)
    task = services.create_task(
        account=account, title="  Call the champion ", due_on=timezone.localdate(), actor=csm
    )
    assert (task.title, task.owner, task.status) == ("Call the champion", csm, TaskStatus.OPEN)
    assert DomainEvent.objects.filter(kind="task.created", account_id=account.pk).count() == 1
    assert not TimelineEntry.objects.filter(account=account).exists()  # an open task is a plan, not a touch


@pytest.mark.parametrize("years", [6, -6])
def test_a_due_date_years_away_is_refused(csm, years):
    with pytest.raises(ValidationError) as error:
        services.create_task(
            account=AccountFactory(),
            title="Typo",
            due_on=timezone.localdate() + timedelta(days=366 * years),
            actor=csm,
        )
    assert "due_on" in error.value.message_dict
    assert not Task.objects.exists()


def test_completing_puts_it_on_the_timeline_once(csm):
    task = services.create_task(
        account=AccountFactory(), title="QBR deck", due_on=timezone.localdate(), actor=csm
    )
    services.complete_task(task=task, actor=csm)
    entry = TimelineEntry.objects.get(account=task.account)
    assert entry.kind == "task_done" and "QBR deck" in entry_title(entry)
    with pytest.raises(ValidationError):
        services.complete_task(task=task, actor=csm)
    assert TimelineEntry.objects.filter(account=task.account).count() == 1


def test_cancelling_needs_a_reason_and_lands_on_the_timeline(csm):
    task = services.create_task(
        account=AccountFactory(), title="Site visit", due_on=timezone.localdate(), actor=csm
    )
    with pytest.raises(ValidationError):
        services.cancel_task(task=task, reason="  ", actor=csm)
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN
    services.cancel_task(task=task, reason="Customer moved the meeting online", actor=csm)
    task.refresh_from_db()
    assert task.status == TaskStatus.CANCELLED and task.closed_at is not None
    entry = TimelineEntry.objects.get(account=task.account)
    assert "online" in entry_title(entry)


def test_update_changes_only_what_is_given_and_is_audited(csm, leader):
    from touchpoint.users.models import AuditLogEntry

    task = services.create_task(
        account=AccountFactory(owner=csm), title="Plan QBR", due_on=timezone.localdate(), actor=csm
    )
    new_due = timezone.localdate() + timedelta(days=3)
    updated = services.update_task(task=task, actor=csm, due_on=new_due, owner=leader, notes="Bring the deck")
    assert (updated.title, updated.due_on, updated.owner, updated.notes) == (
        "Plan QBR",
        new_due,
        leader,
        "Bring the deck",
    )
    entry = AuditLogEntry.objects.get(object_type="tasks.task", object_id=str(task.pk), action="update")
    assert entry.changes["due_on"] == [timezone.localdate().isoformat(), new_due.isoformat()]
    assert entry.changes["owner"] == [csm.pk, leader.pk]
    assert set(entry.changes) == {"due_on", "owner", "notes"}
    # Nothing changed: nothing written.
    services.update_task(task=updated, actor=csm, title="Plan QBR")
    assert AuditLogEntry.objects.filter(object_type="tasks.task", action="update").count() == 1


def test_update_refuses_a_closed_task(csm):
    task = services.create_task(
        account=AccountFactory(owner=csm), title="Call", due_on=timezone.localdate(), actor=csm
    )
    services.complete_task(task=task, actor=csm)
    with pytest.raises(ValidationError) as error:
        services.update_task(task=task, actor=csm, title="Call again")
    assert "status" in error.value.message_dict
    task.refresh_from_db()
    assert task.title == "Call"


@pytest.mark.parametrize("field, value", [("title", "   "), ("priority", 9), ("type", "party")])
def test_update_refuses_bad_values(csm, field, value):
    task = services.create_task(
        account=AccountFactory(owner=csm), title="Call", due_on=timezone.localdate(), actor=csm
    )
    with pytest.raises(ValidationError) as error:
        services.update_task(task=task, actor=csm, **{field: value})
    assert field in error.value.message_dict


def test_the_owner_must_be_able_to_work_on_the_account(csm, outsider, viewer, teammate, account):
    for stranger in (outsider, viewer):
        with pytest.raises(ValidationError) as error:
            services.create_task(
                account=account, title="Call", due_on=timezone.localdate(), actor=csm, owner=stranger
            )
        assert "owner" in error.value.message_dict
    task = services.create_task(
        account=account, title="Call", due_on=timezone.localdate(), actor=csm, owner=teammate
    )
    assert task.owner == teammate
    with pytest.raises(ValidationError) as error:
        services.update_task(task=task, actor=csm, owner=outsider)
    assert "owner" in error.value.message_dict
    assert services.update_task(task=task, actor=csm, owner=None).owner is None


def test_an_inactive_owner_is_refused(csm, account, leader):
    leader.is_active = False
    leader.save()
    with pytest.raises(ValidationError):
        services.create_task(
            account=account, title="Call", due_on=timezone.localdate(), actor=csm, owner=leader
        )
