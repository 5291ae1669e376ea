"""The effects a journey applies in the database, through the owning apps' services."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from tests.factories import AccountFactory, FrameworkFactory, PhaseFactory, UserFactory
from tests.journeys.engine_support import WELCOME, live_version
from tests.playbooks.conftest import ship_playbooks
from touchpoint.accounts.models import AccountTag, TimelineEntry
from touchpoint.accounts.services import set_account_attribute, tag_account, untag_account
from touchpoint.events.models import DomainEvent
from touchpoint.journeys import engine
from touchpoint.journeys.models import EnrollmentStatus, OutboxRow, OutboxStatus
from touchpoint.playbooks.models import Playbook, PlaybookRun
from touchpoint.success.models import AccountPlacement
from touchpoint.tasks.models import Task, TaskPriority

pytestmark = pytest.mark.django_db


@pytest.fixture
def account():
    return AccountFactory(owner=UserFactory(), engagement_model="high")


def test_task_step_makes_a_task_for_the_owner(account):
    version = live_version(
        [
            {
                "id": "call",
                "type": "task",
                "title": "Call them",
                "priority": "high",
                "task_type": "call",
                "due_in_days": 2,
            }
        ]
    )
    enrollment = engine.enroll(version=version, account=account)
    task = Task.objects.get(account=account)
    assert (task.title, task.owner, task.priority, task.type) == (
        "Call them",
        account.owner,
        TaskPriority.HIGH,
        "call",
    )
    row = OutboxRow.objects.get(enrollment=enrollment)
    assert (row.status, row.payload["task_id"]) == (OutboxStatus.SENT, task.pk)


def test_by_engagement_task_takes_its_task_title(account):
    version = live_version(
        [
            {
                "id": "mail",
                "type": "email",
                "message": "m",
                "by_engagement": True,
                "task_title": "Phone the champion",
            }
        ],
        messages={"m": WELCOME},
    )
    engine.enroll(version=version, account=account)
    assert Task.objects.get(account=account).title == "Phone the champion"


def test_playbook_step_starts_it_once(account):
    ship_playbooks()
    name = Playbook.objects.filter(is_active=True).values_list("name", flat=True).first()
    steps = [{"id": "run", "type": "playbook", "playbook": name}]
    first = engine.enroll(version=live_version(steps), account=account)
    second = engine.enroll(version=live_version(steps, key="again"), account=account)
    assert PlaybookRun.objects.filter(account=account).count() == 1
    assert OutboxRow.objects.get(enrollment=first).status == OutboxStatus.SENT
    row = OutboxRow.objects.get(enrollment=second)
    assert (row.status, row.suppressed_reason) == (OutboxStatus.SUPPRESSED, "already_running")
    second.refresh_from_db()
    assert second.status == EnrollmentStatus.COMPLETED


def test_set_phase_moves_the_account(account):
    framework = FrameworkFactory(is_default=True)
    PhaseFactory(framework=framework, name="Onboarding", position=1)
    adoption = PhaseFactory(framework=framework, name="Adoption", position=2)
    engine.enroll(
        version=live_version([{"id": "move", "type": "set_phase", "phase": "Adoption"}]), account=account
    )
    assert AccountPlacement.objects.get(account=account).phase == adoption


def test_set_phase_to_an_unknown_phase_fails_the_enrollment(account):
    enrollment = engine.enroll(
        version=live_version([{"id": "move", "type": "set_phase", "phase": "Nowhere"}]), account=account
    )
    assert enrollment.status == EnrollmentStatus.FAILED
    assert "Nowhere" in enrollment.exit_reason


def test_set_attribute_and_tags(account):
    version = live_version(
        [
            {"id": "plan", "type": "set_attribute", "name": "welcome_sent", "value": True},
            {"id": "tag", "type": "tag", "tag": "onboarded"},
            {"id": "untag", "type": "tag", "tag": "new", "remove": True},
        ]
    )
    AccountTag.objects.create(account=account, name="new")
    engine.enroll(version=version, account=account)
    account.refresh_from_db()
    assert account.attributes["welcome_sent"] is True
    assert list(AccountTag.objects.filter(account=account).values_list("name", flat=True)) == ["onboarded"]


# --- the accounts services the actions use ------------------------------------------------------------


def test_set_account_attribute_records_the_change(account):
    set_account_attribute(account=account, name="plan", value="pro", actor=None)
    set_account_attribute(
        account=account, name="plan", value="pro", actor=None
    )  # no change: nothing recorded
    account.refresh_from_db()
    assert account.attributes == {"plan": "pro"}
    entries = TimelineEntry.objects.filter(account=account, kind="account_changed")
    assert entries.count() == 1
    assert entries.get().data == {"changes": {"attributes": {"plan": [None, "pro"]}}}
    assert DomainEvent.objects.filter(kind="account.changed", account_id=account.pk).count() == 1
    set_account_attribute(account=account, name="plan", value=None, actor=None)
    account.refresh_from_db()
    assert account.attributes == {}


@pytest.mark.parametrize(("name", "value"), [("bad name!", 1), ("", 1), ("ok", {"a": 1})])
def test_set_account_attribute_refuses_bad_input(account, name, value):
    with pytest.raises(ValidationError):
        set_account_attribute(account=account, name=name, value=value, actor=None)


def test_tagging_twice_or_untagging_what_is_not_there_changes_nothing(account):
    tag_account(account=account, name=" beta ", actor=None)
    tag_account(account=account, name="beta", actor=None)
    assert list(AccountTag.objects.filter(account=account).values_list("name", flat=True)) == ["beta"]
    assert TimelineEntry.objects.filter(account=account, kind="tag_added").count() == 1
    assert untag_account(account=account, name="beta", actor=None) is True
    assert untag_account(account=account, name="beta", actor=None) is False
    assert TimelineEntry.objects.filter(account=account, kind="tag_removed").count() == 1
    with pytest.raises(ValidationError):
        tag_account(account=account, name="x" * 65, actor=None)
