"""Journey versions and their life: save, launch (moving enrollments or not), pause, resume, archive."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import AccountFactory
from touchpoint.events.models import DomainEvent
from touchpoint.journeys import services
from touchpoint.journeys.documents import DocumentError
from touchpoint.journeys.models import (
    Enrollment,
    EnrollmentStatus,
    Journey,
    JourneyStatus,
    JourneyVersion,
    subject_key_of,
)
from touchpoint.playbooks.models import Playbook
from touchpoint.users.models import AuditLogEntry

pytestmark = pytest.mark.django_db

V1 = """\
key: onboarding
name: Onboarding
entry: {trigger: manual}
steps:
  - {id: first-wait, type: wait, days: 2}
  - {id: call, type: task, title: Call}
  - {id: old-wait, type: wait, days: 5}
"""

V2 = """\
key: onboarding
name: Onboarding (shorter)
entry: {trigger: manual}
steps:
  - {id: first-wait, type: wait, days: 1}
  - {id: call, type: task, title: Call them}
"""


def enroll_at(version: JourneyVersion, step_id: str, *, status: str = EnrollmentStatus.ACTIVE) -> Enrollment:
    account = AccountFactory()
    return Enrollment.objects.create(
        journey=version.journey,
        version=version,
        account=account,
        subject_key=subject_key_of(account.pk, None),
        step_id=step_id,
        status=status,
    )


def test_saving_makes_the_journey_then_numbered_versions_and_the_same_text_is_a_no_op(leader):
    first = services.save_version(source=V1, actor=leader, note="first cut")
    journey = first.journey
    assert (journey.key, journey.name, journey.status, journey.created_by) == (
        "onboarding",
        "Onboarding",
        JourneyStatus.DRAFT,
        leader,
    )
    assert (first.number, first.source, first.note, first.created_by) == (1, V1, "first cut", leader)
    assert first.definition["steps"][0] == {
        "id": "first-wait",
        "type": "wait",
        **first.definition["steps"][0],
    }
    assert services.definition_of(first).steps[1].title == "Call"
    assert services.save_version(source=V1, actor=leader) == first
    second = services.save_version(source=V2, actor=leader)
    assert second.number == 2
    journey.refresh_from_db()
    assert journey.name == "Onboarding (shorter)"
    assert JourneyVersion.objects.filter(journey=journey).count() == 2
    first.refresh_from_db()
    assert first.source == V1  # older versions never change
    actions = list(
        AuditLogEntry.objects.filter(object_type="journeys.journey").values_list("action", flat=True)
    )
    assert sorted(actions) == ["journey.create", "journey.save_version"]


def test_saving_refuses_a_text_with_problems_and_saves_nothing():
    with pytest.raises(DocumentError) as caught:
        services.save_version(source=V1.replace("days: 2", "dayz: 2"))
    assert caught.value.problems[0].line == 5
    assert not Journey.objects.exists()


def test_a_different_key_is_another_journey_and_editing_one_must_keep_its_key():
    journey = services.save_version(source=V1).journey
    other = services.save_version(source=V1.replace("key: onboarding", "key: onboarding-b"))
    assert other.journey != journey and other.number == 1
    with pytest.raises(ValidationError) as caught:
        services.save_version(source=V1.replace("key: onboarding", "key: renamed"), journey=journey)
    assert "source" in caught.value.message_dict
    assert not Journey.objects.filter(key="renamed").exists()
    with pytest.raises(ValidationError) as caught:
        services.save_version(source=V2, journey=journey, note="x" * 301)
    assert "note" in caught.value.message_dict


def test_launch_makes_the_latest_version_live_and_records_it(leader):
    version = services.save_version(source=V1)
    journey = services.launch(journey=version.journey, actor=leader)
    version.refresh_from_db()
    assert journey.status == JourneyStatus.LIVE and journey.live_version == version
    assert version.launched_at is not None
    event = DomainEvent.objects.get(kind="journey.launched")
    assert event.payload["version"] == 1 and event.actor == leader
    assert AuditLogEntry.objects.filter(action="journey.launch", object_id=str(journey.pk)).exists()
    # Launching what is already live changes nothing.
    services.launch(journey=journey, actor=leader)
    assert DomainEvent.objects.filter(kind="journey.launched").count() == 1


def test_a_journey_without_versions_or_archived_cannot_be_launched():
    journey = Journey.objects.create(key="empty", name="Empty")
    with pytest.raises(ValidationError) as caught:
        services.launch(journey=journey)
    assert "version" in caught.value.message_dict
    archived = services.archive(journey=services.save_version(source=V1).journey)
    with pytest.raises(ValidationError) as caught:
        services.launch(journey=archived)
    assert "status" in caught.value.message_dict


def test_a_version_of_another_journey_cannot_be_launched():
    mine = services.save_version(source=V1).journey
    theirs = services.save_version(source=V1.replace("key: onboarding", "key: other"))
    with pytest.raises(ValidationError) as caught:
        services.launch(journey=mine, version=theirs)
    assert "version" in caught.value.message_dict


def test_launch_checks_the_references_again():
    playbook = Playbook.objects.create(name="Kick-off")
    text = V1.replace(
        "  - {id: call, type: task, title: Call}", "  - {id: call, type: playbook, playbook: Kick-off}"
    )
    version = services.save_version(source=text)
    playbook.delete()
    with pytest.raises(ValidationError) as caught:
        services.launch(journey=version.journey)
    [message] = caught.value.message_dict["version"]
    assert message == "Version 1 cannot be launched: line 6, column 42: no playbook is called “Kick-off”"
    assert Journey.objects.get().status == JourneyStatus.DRAFT


def test_a_new_version_leaves_enrollments_on_the_old_one_by_default():
    v1 = services.save_version(source=V1)
    services.launch(journey=v1.journey)
    walking = enroll_at(v1, "call")
    v2 = services.save_version(source=V2)
    launched = services.launch_version(journey=v1.journey, version=v2)
    assert (launched.moved, launched.stayed) == (0, 1)
    walking.refresh_from_db()
    assert walking.version == v1
    assert launched.journey.live_version == v2


def test_moving_enrollments_moves_those_whose_step_exists_in_the_new_version():
    v1 = services.save_version(source=V1)
    services.launch(journey=v1.journey)
    on_call = enroll_at(v1, "call")
    on_wait = enroll_at(v1, "first-wait")
    on_removed_step = enroll_at(v1, "old-wait")
    finished = enroll_at(v1, "", status=EnrollmentStatus.COMPLETED)
    v2 = services.save_version(source=V2)
    launched = services.launch_version(journey=v1.journey, version=v2, move_enrollments=True)
    assert (launched.moved, launched.stayed) == (2, 1)
    versions = {e.pk: e.version_id for e in Enrollment.objects.all()}
    assert versions == {on_call.pk: v2.pk, on_wait.pk: v2.pk, on_removed_step.pk: v1.pk, finished.pk: v1.pk}
    assert DomainEvent.objects.filter(kind="journey.launched").last().payload["moved_enrollments"] == 2


def test_moving_skips_a_subject_that_already_has_an_enrollment_on_the_new_version():
    v1 = services.save_version(source=V1)
    services.launch(journey=v1.journey)
    old = enroll_at(v1, "call")
    v2 = services.save_version(source=V2)
    Enrollment.objects.create(
        journey=v1.journey,
        version=v2,
        account=old.account,
        subject_key=old.subject_key,
        status=EnrollmentStatus.COMPLETED,
    )
    launched = services.launch_version(journey=v1.journey, version=v2, move_enrollments=True)
    assert (launched.moved, launched.stayed) == (0, 1)


def test_pause_resume_archive_and_the_transitions_they_refuse(leader):
    journey = services.save_version(source=V1).journey
    with pytest.raises(ValidationError) as caught:
        services.pause(journey=journey)
    assert caught.value.message_dict == {"status": ["Only a live journey can be paused."]}
    with pytest.raises(ValidationError):
        services.resume(journey=journey)
    journey = services.launch(journey=journey)
    with pytest.raises(ValidationError) as caught:
        services.archive(journey=journey)
    assert caught.value.message_dict == {"status": ["Pause the journey before archiving it."]}
    assert services.pause(journey=journey, actor=leader).status == JourneyStatus.PAUSED
    assert services.resume(journey=journey, actor=leader).status == JourneyStatus.LIVE
    assert services.pause(journey=journey).status == JourneyStatus.PAUSED
    kinds = list(DomainEvent.objects.order_by("id").values_list("kind", flat=True))
    assert kinds == ["journey.launched", "journey.paused", "journey.resumed", "journey.paused"]
    walking = enroll_at(journey.live_version, "call")
    assert services.archive(journey=journey).status == JourneyStatus.ARCHIVED
    walking.refresh_from_db()
    assert (walking.status, walking.exit_reason, walking.step_id) == (
        EnrollmentStatus.EXITED,
        "journey archived",
        "",
    )
    with pytest.raises(ValidationError) as caught:
        services.archive(journey=journey)
    assert caught.value.message_dict == {"status": ["This journey is already archived."]}
    with pytest.raises(ValidationError) as caught:
        services.save_version(source=V2)
    assert "source" in caught.value.message_dict


def test_a_draft_can_be_archived():
    journey = services.save_version(source=V1).journey
    assert services.archive(journey=journey).status == JourneyStatus.ARCHIVED
    assert DomainEvent.objects.get(kind="journey.archived").payload["from"] == "draft"


@pytest.mark.skipif(not connection.features.has_select_for_update, reason="the database has no row locks")
def test_saving_and_launching_lock_the_journey_row_first():
    # Two saves of the same journey would otherwise both read version N and both write N+1.
    journey = services.save_version(source=V1).journey
    for write in (
        lambda: services.save_version(source=V2),
        lambda: services.launch(journey=journey),
        lambda: services.pause(journey=journey),
    ):
        with CaptureQueriesContext(connection) as queries:
            write()
        locking = [q["sql"] for q in queries if "FOR UPDATE" in q["sql"] and '"journeys_journey"' in q["sql"]]
        assert locking, [q["sql"] for q in queries]
