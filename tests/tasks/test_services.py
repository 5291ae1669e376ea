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
