"""Archiving a journey takes its active enrollments out through the engine's exit path
(engine.exit_enrollment), a chunk per transaction: each gets its reason, its open step visit closed
as "exit", and its audit entry, as an enrollment taken out by hand does."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import AccountFactory
from touchpoint.events.models import DomainEvent
from touchpoint.journeys import engine, services
from touchpoint.journeys.models import Enrollment, EnrollmentStatus, JourneyStatus, StepVisit
from touchpoint.users.models import AuditLogEntry

pytestmark = pytest.mark.django_db

SOURCE = """\
key: archive-me
name: Archive me
entry: {trigger: manual}
steps:
  - {id: long-wait, type: wait, days: 30}
  - {id: call, type: task, title: Call}
"""


def _paused_with(count: int):
    journey = services.save_version(source=SOURCE).journey
    journey = services.launch(journey=journey)
    enrollments = [
        engine.enroll(version=journey.live_version, account=AccountFactory()) for _ in range(count)
    ]
    assert all(enrollment is not None for enrollment in enrollments)
    services.pause(journey=journey)
    return journey, enrollments


def test_archiving_exits_each_enrollment_as_exit_enrollment_does(leader):
    journey, enrollments = _paused_with(3)
    ended = engine.exit_enrollment(enrollment=enrollments[0], reason="moved on by hand", actor=leader)
    before = (
        AuditLogEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    )  # the log is append-only

    services.archive(journey=journey, actor=leader)

    journey.refresh_from_db()
    assert journey.status == JourneyStatus.ARCHIVED
    for enrollment in enrollments[1:]:
        enrollment.refresh_from_db()
        assert (enrollment.status, enrollment.exit_reason, enrollment.step_id, enrollment.wake_at) == (
            EnrollmentStatus.EXITED,
            "journey archived",
            "",
            None,
        )
        assert enrollment.ended_at is not None
        # The wait it stood on is closed with the outcome "exit", as exit_enrollment closes it.
        visit = StepVisit.objects.get(enrollment=enrollment, step_id="long-wait")
        assert (visit.outcome, visit.left_at is not None) == ("exit", True)
    audits = AuditLogEntry.objects.filter(action="journey.enrollment.exit", pk__gt=before)
    assert sorted(entry.object_id for entry in audits) == sorted(str(e.pk) for e in enrollments[1:])
    assert {entry.changes["reason"] for entry in audits} == {"journey archived"}
    assert {entry.actor_id for entry in audits} == {leader.pk}
    # The one taken out by hand before keeps its own reason and is not exited twice.
    ended.refresh_from_db()
    assert ended.exit_reason == "moved on by hand"
    assert DomainEvent.objects.get(kind="journey.archived").payload["exited"] == 2


@pytest.mark.django_db(transaction=True)
def test_many_enrollments_leave_a_chunk_per_transaction(leader):
    journey, _enrollments = _paused_with(7)
    table = Enrollment._meta.db_table
    with CaptureQueriesContext(connection) as queries:
        services.archive(journey=journey, actor=leader, chunk_size=3)
    assert not Enrollment.objects.filter(journey=journey, status=EnrollmentStatus.ACTIVE).exists()
    assert Enrollment.objects.filter(exit_reason="journey archived").count() == 7
    sql = [query["sql"] for query in queries.captured_queries]
    # The active ones are read 3 at a time (3, 3, 1, then none left), never all at once…
    chunks = [q for q in sql if q.startswith(f'SELECT "{table}"."id"') and q.endswith("LIMIT 3")]
    assert len(chunks) == 4
    # …and each chunk commits on its own: one commit for the status change, then one per chunk
    # (SQLite's BEGIN IMMEDIATE and COMMIT are statements Django logs; PostgreSQL's are not).
    if connection.vendor == "sqlite":
        assert sql.count("COMMIT") == 4


def test_an_archive_stopped_half_way_is_finished_by_archiving_again(leader):
    journey, _enrollments = _paused_with(2)
    # As if the process died after the status change and before any exit.
    journey.status = JourneyStatus.ARCHIVED
    journey.save(update_fields=["status"])

    services.archive(journey=journey, actor=leader)

    assert not Enrollment.objects.filter(journey=journey, status=EnrollmentStatus.ACTIVE).exists()
    assert Enrollment.objects.filter(journey=journey, exit_reason="journey archived").count() == 2
    with pytest.raises(ValidationError) as caught:
        services.archive(journey=journey)
    assert caught.value.message_dict == {"status": ["This journey is already archived."]}


def test_a_live_journey_is_not_archived_and_nobody_is_exited():
    journey = services.launch(journey=services.save_version(source=SOURCE).journey)
    enrollment = engine.enroll(version=journey.live_version, account=AccountFactory())
    with pytest.raises(ValidationError) as caught:
        services.archive(journey=journey)
    assert caught.value.message_dict == {"status": ["Pause the journey before archiving it."]}
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.ACTIVE
