"""playbooks.services: starting makes one task per step (due from the anchor, never before today),
stopping cancels the open ones, a run completes when its tasks are closed; all on the timeline."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from tests.events.test_events import settle
from tests.factories import AccountFactory, UserFactory
from touchpoint.accounts.models import TimelineEntry
from touchpoint.accounts.timeline import entry_title
from touchpoint.events.models import DomainEvent
from touchpoint.playbooks import services, triggers
from touchpoint.playbooks.models import Playbook, PlaybookRun, PlaybookStep, RunStatus
from touchpoint.tasks.models import Task, TaskSource, TaskStatus
from touchpoint.tasks.services import cancel_task, complete_task
from touchpoint.users.roles import Role

pytestmark = pytest.mark.django_db


def test_starting_makes_one_task_per_step_due_from_the_anchor(shipped, csm):
    account = AccountFactory(owner=csm)
    today = timezone.localdate()
    run = services.start_playbook(account=account, playbook=shipped["Onboarding"], actor=csm)
    tasks = list(Task.objects.filter(account=account).order_by("due_on"))
    assert [t.due_on - today for t in tasks] == [timedelta(days=d) for d in (0, 7, 30, 60)]
    assert {t.source for t in tasks} == {TaskSource.PLAYBOOK}
    assert {t.owner for t in tasks} == {csm}
    assert [s.task for s in run.run_steps.order_by("position")] == [
        Task.objects.get(account=account, title=title)
        for title in ("Kickoff call", "Training session", "Adoption review", "Success plan review")
    ]
    entry = TimelineEntry.objects.get(account=account, kind="playbook_started")
    assert "Onboarding" in entry_title(entry)
    assert DomainEvent.objects.filter(kind="playbook.started", account_id=account.pk).count() == 1


def test_steps_whose_day_passed_are_due_today_and_say_so(shipped, csm):
    account = AccountFactory(owner=csm)
    today = timezone.localdate()
    services.start_playbook(
        account=account, playbook=shipped["Renewal"], actor=csm, anchor_date=today + timedelta(days=75)
    )
    by_title = {t.title: t for t in Task.objects.filter(account=account)}
    assert by_title["Renewal review: internal prep"].due_on == today  # was −120 days: 45 days ago
    assert by_title["Customer value review (EBR)"].due_on == today
    assert "already passed" in by_title["Customer value review (EBR)"].notes
    assert by_title["Send the renewal proposal"].due_on == today + timedelta(days=15)
    assert "already passed" not in by_title["Send the renewal proposal"].notes
    entry = TimelineEntry.objects.get(account=account, kind="playbook_started")
    assert "2 steps" in entry_title(entry)


def test_a_leader_step_goes_to_a_cs_leader(shipped, csm):
    leader = UserFactory(role=Role.CS_LEADER)
    account = AccountFactory(owner=csm)
    services.start_playbook(account=account, playbook=shipped["Risk escalation"], actor=csm)
    call = Task.objects.get(account=account, title="Call the customer with your CS leader")
    assert call.owner == leader
    assert Task.objects.get(account=account, title="Agree a recovery plan").owner == csm


def test_the_same_playbook_cannot_run_twice_at_once(shipped, csm):
    account = AccountFactory(owner=csm)
    services.start_playbook(account=account, playbook=shipped["Onboarding"], actor=csm)
    with pytest.raises(ValidationError) as error:
        services.start_playbook(account=account, playbook=shipped["Onboarding"], actor=csm)
    assert "playbook" in error.value.message_dict
    assert PlaybookRun.objects.filter(account=account).count() == 1
    assert Task.objects.filter(account=account).count() == 4


def test_a_switched_off_or_empty_playbook_does_not_start(csm):
    account = AccountFactory(owner=csm)
    off = Playbook.objects.create(name="Off", is_active=False)
    PlaybookStep.objects.create(playbook=off, position=1, title="x")
    with pytest.raises(ValidationError):
        services.start_playbook(account=account, playbook=off, actor=csm)
    with pytest.raises(ValidationError):
        services.start_playbook(account=account, playbook=Playbook.objects.create(name="Empty"), actor=csm)
    assert not PlaybookRun.objects.exists() and not Task.objects.exists()


def test_stopping_cancels_the_open_tasks_with_the_reason(shipped, csm):
    account = AccountFactory(owner=csm)
    run = services.start_playbook(account=account, playbook=shipped["Onboarding"], actor=csm)
    first = run.run_steps.order_by("position").first().task
    complete_task(task=first, actor=csm)
    services.stop_playbook(run=run, reason="Customer paused the rollout", actor=csm)
    run.refresh_from_db()
    assert (run.status, run.stopped_reason) == (RunStatus.STOPPED, "Customer paused the rollout")
    statuses = sorted(Task.objects.filter(account=account).values_list("status", flat=True))
    assert statuses == [TaskStatus.CANCELLED] * 3 + [TaskStatus.DONE]
    assert set(Task.objects.filter(status=TaskStatus.CANCELLED).values_list("cancel_reason", flat=True)) == {
        "Customer paused the rollout"
    }
    assert TimelineEntry.objects.filter(account=account, kind="playbook_stopped").count() == 1
    with pytest.raises(ValidationError):
        services.stop_playbook(run=run, reason="again", actor=csm)


def test_stopping_needs_a_reason(shipped, csm):
    run = services.start_playbook(
        account=AccountFactory(owner=csm), playbook=shipped["Onboarding"], actor=csm
    )
    with pytest.raises(ValidationError) as error:
        services.stop_playbook(run=run, reason="  ", actor=csm)
    assert "reason" in error.value.message_dict
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING


@pytest.mark.django_db(transaction=True)  # the consumer reads events only once their transaction commits
def test_a_run_completes_when_all_its_tasks_are_closed(shipped, csm):
    account = AccountFactory(owner=csm)
    run = services.start_playbook(account=account, playbook=shipped["Onboarding"], actor=csm)
    tasks = [s.task for s in run.run_steps.order_by("position")]
    for task in tasks[:-1]:
        complete_task(task=task, actor=csm)
    settle()
    triggers.follow_events()
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING
    cancel_task(task=tasks[-1], reason="Not needed", actor=csm)
    settle()
    triggers.follow_events()
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED and run.ended_at is not None
    entry = TimelineEntry.objects.get(account=account, kind="playbook_completed")
    assert "3 of 4" in entry_title(entry)
