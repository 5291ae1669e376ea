"""The demo company's journeys: live ones with history, made by the real engine on the demo's clock, and a
draft whose simulation has something to show."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Max

from tests.conftest import demo_once_per_module
from touchpoint.accounts.models import TimelineEntry
from touchpoint.events.models import ConsumerPosition, DomainEvent
from touchpoint.journeys import engine, services, triggers
from touchpoint.journeys.definition import walk
from touchpoint.journeys.models import (
    DeliverySettings,
    Enrollment,
    EnrollmentStatus,
    Journey,
    JourneyCursor,
    JourneyStatus,
    MessagingConsent,
    OutboxKind,
    OutboxRow,
    OutboxStatus,
    StepVisit,
)
from touchpoint.journeys.simulation import simulate
from touchpoint.tasks.models import Task, TaskSource, TaskStatus

pytestmark = pytest.mark.django_db

TODAY = date(2026, 3, 2)
END = datetime(TODAY.year, TODAY.month, TODAY.day, tzinfo=UTC)
# Long enough a history that some renewals fall within 120 days of the demo's day.
ARGS = ["--accounts=40", "--days=400", f"--today={TODAY.isoformat()}"]


company = demo_once_per_module(*ARGS)


def demo(*args: str) -> None:
    call_command("demo", *args, stdout=StringIO())


def enrollment_story() -> list[tuple]:
    """What happened to every enrollment, without database ids (so without entry keys, which hold event and
    subscription ids, nor the A/B arm, which the engine draws from the enrollment's id)."""
    return sorted(
        Enrollment.objects.values_list(
            "journey__key",
            "account__external_id",
            "contact__email",
            "status",
            "step_entered_at",
            "entered_at",
            "ended_at",
        ).order_by()
    )


def test_the_demo_company_has_live_journeys_with_history_and_a_draft_with_results(company):
    journeys = {journey.key: journey for journey in Journey.objects.all()}
    assert {key for key, j in journeys.items() if j.status == JourneyStatus.LIVE} == {
        "welcome-series",
        "renewal-countdown",
        "health-red",
        "new-contact-welcome",
    }
    draft = journeys["training"]
    assert draft.status == JourneyStatus.DRAFT and not draft.enrollments.exists()
    for journey in journeys.values():
        version = journey.versions.get()
        assert version.created_at < END and journey.created_at < END
        if journey.status == JourneyStatus.LIVE:
            assert journey.live_version == version and version.created_at < version.launched_at < END
            assert journey.enrollments.exists(), journey.key

    # Enrollments at every step: the active ones wait (none is overdue, the engine caught up to the
    # demo's day), every step of the welcome series and the renewal countdown was reached, and the
    # renewal countdown has people waiting at 90, 60 and 30 days.
    active = Enrollment.objects.filter(status=EnrollmentStatus.ACTIVE)
    assert active.exists() and not active.filter(wake_at__lt=END).exists()
    for key in ("welcome-series", "renewal-countdown"):
        definition = services.definition_of(journeys[key].live_version)
        reached = set(
            StepVisit.objects.filter(enrollment__journey__key=key).values_list("step_id", flat=True)
        )
        assert reached == {step.id for step in walk(definition.steps)}, key
    waiting = Counter(active.filter(journey__key="renewal-countdown").values_list("step_id", flat=True))
    assert set(waiting) == {"until-90-days", "until-60-days", "until-30-days"}
    ended = Counter(
        Enrollment.objects.exclude(status=EnrollmentStatus.ACTIVE).values_list("status", flat=True)
    )
    assert ended[EnrollmentStatus.CONVERTED] and ended[EnrollmentStatus.COMPLETED]
    assert not ended[EnrollmentStatus.FAILED]

    # The A/B test: both arms drawn, and both subject lines went out.
    arms = Counter(
        choices["subject-line-test"]
        for choices in Enrollment.objects.filter(journey__key="welcome-series").values_list(
            "choices", flat=True
        )
    )
    assert set(arms) == {"A", "B"}
    sent = OutboxRow.objects.filter(kind=OutboxKind.EMAIL, status=OutboxStatus.SENT)
    assert {"welcome-a", "welcome-b"} <= set(sent.values_list("step_id", flat=True))

    # Sent messages are history: sent before the demo's day with their Message-ID and language, some
    # opened and clicked, some held back by the weekly cap; nothing is left for a worker to send.
    emails = OutboxRow.objects.filter(kind=OutboxKind.EMAIL)
    assert not emails.filter(status__in=[OutboxStatus.PENDING, OutboxStatus.SENDING]).exists()
    assert sent.count() > 20
    assert all(
        row.created_at <= row.sent_at < END and row.message_id.startswith("<journey-") and row.language
        for row in sent
    )
    assert sent.exclude(opened_at=None).exists() and sent.exclude(clicked_at=None).exists()
    assert emails.filter(status=OutboxStatus.SUPPRESSED, suppressed_reason="capped").exists()
    assert DeliverySettings.load().weekly_email_cap == 2
    unsubscribed = set(MessagingConsent.objects.values_list("contact_id", flat=True))
    assert not sent.filter(contact_id__in=unsubscribed).exists()

    # The owners' tasks, mostly done when they were due before the last days.
    tasks = Task.objects.filter(source=TaskSource.JOURNEY)
    assert tasks.filter(status=TaskStatus.DONE).exists() and tasks.filter(status=TaskStatus.OPEN).exists()
    assert not tasks.filter(created_at__gte=END).exists()
    assert not tasks.filter(closed_at__gte=END).exists()

    # The draft's simulation on the demo's history shows who would have entered and what they got.
    result = simulate(services.definition_of(draft.versions.get()), days=90, now=END).to_json()
    assert result["entered"] > 0 and result["messages_total"] > 0 and result["messages"]


def test_what_the_services_wrote_is_dated_in_the_demo_and_a_worker_replays_nothing(company):
    assert TimelineEntry.objects.aggregate(last=Max("occurred_at"))["last"] < END
    # (The health step's grade changes carry their day in the payload; the journeys' events are dated.)
    written = DomainEvent.objects.filter(kind__regex=r"^(task|journey|account)\.")
    assert written.count() > 10 and written.aggregate(last=Max("occurred_at"))["last"] < END
    assert TimelineEntry.objects.filter(kind="task_done").exists()
    assert OutboxRow.objects.aggregate(last=Max("created_at"))["last"] < END
    newest = DomainEvent.objects.order_by("-transaction_id", "-id").first()
    assert ConsumerPosition.objects.get(name=triggers.CONSUMER).event_id == newest.pk
    dates = JourneyCursor.objects.filter(name__startswith="dates:")
    assert dates.count() == 2 and {cursor.day for cursor in dates} == {TODAY - timedelta(days=1)}

    before = enrollment_story()
    triggers.follow_events()
    triggers.scan_dates(today=TODAY - timedelta(days=1))
    engine.advance_due(now=END - timedelta(minutes=1), limit=1000)
    assert enrollment_story() == before


def test_the_same_seed_gives_the_same_journeys(company):
    first = enrollment_story()
    demo(*ARGS, "--reset")
    assert enrollment_story() == first
    assert Journey.objects.count() == 5
