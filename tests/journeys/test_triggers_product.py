"""Entries from product events (the tracking API's track calls), followed by id after a stored position."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import AccountFactory, ContactFactory
from tests.journeys.entries_support import definition, enrollments, live_journey
from touchpoint.journeys import triggers
from touchpoint.journeys.models import Enrollment, JourneyCursor
from touchpoint.usage.models import RawEvent
from touchpoint.usage.services import create_source, ingest

pytestmark = pytest.mark.django_db(transaction=True)


def _track(
    source, message_id: str, event: str, *, user: str = "u1", group: str | None = "acme", **properties
):
    payload = {
        "type": "track",
        "messageId": message_id,
        "userId": user,
        "event": event,
        "properties": properties,
        "timestamp": timezone.now().isoformat(),
    }
    if group:
        payload["context"] = {"groupId": group}
    assert ingest(source=source, payloads=[payload]).accepted == 1


def _follow(timeout: float = 60) -> int:
    """Follow until every raw event stored so far has been read (PostgreSQL needs a later poll)."""
    newest = RawEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    total = 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        total += triggers.follow_product_events()
        cursor = JourneyCursor.objects.filter(name=triggers.PRODUCT_CURSOR).first()
        if cursor is not None and cursor.position >= newest:
            return total
        time.sleep(0.05)
    raise AssertionError("the product events never settled")


@pytest.fixture
def source():
    return create_source(name="Web app", actor=None)


def _product_journey(key="pro-reports", subject="account", **entry):
    return live_journey(
        definition(
            key,
            {"trigger": "product_event", "product_event": "Report created", **entry},
            subject=subject,
            reentry={"policy": "after_exit"},
        )
    )


def test_a_product_event_enrolls_its_account_when_the_properties_match(source):
    version = _product_journey(where={"field": "entry.properties.plan", "op": "eq", "value": "pro"})
    account = AccountFactory(external_id="acme")
    AccountFactory(external_id="other")
    _track(source, "m1", "Report created", plan="pro")
    _track(source, "m2", "Report created", plan="free")
    _track(source, "m3", "Report created", group="other", plan="free")
    _track(source, "m4", "Dashboard viewed", plan="pro")
    _follow()
    [enrollment] = enrollments(version)
    event = RawEvent.objects.get(message_id="m1")
    assert enrollment.account == account
    assert enrollment.entry_key == f"product:{event.pk}"
    assert enrollment.entry_data["properties"] == {"plan": "pro"}
    assert enrollment.entry_data["event"] == "Report created"
    # Read again from the start (a reset cursor): the entry keys are taken, nobody enrolls twice.
    JourneyCursor.objects.filter(name=triggers.PRODUCT_CURSOR).update(position=0)
    _follow()
    assert len(enrollments(version)) == 1


def test_a_contact_journey_enrolls_the_person_by_user_id_even_when_known_after_the_event(source):
    version = _product_journey(key="people-reports", subject="contact")
    account = AccountFactory(external_id="acme")
    _track(source, "m1", "Report created", user="person-7")
    _track(source, "m2", "Report created", user="nobody-knows")
    person = ContactFactory(account=account, external_id="person-7")  # matched after the event arrived
    _follow()
    assert [e.contact for e in enrollments(version)] == [person]


def test_events_received_before_the_launch_enroll_nobody(source):
    AccountFactory(external_id="acme")
    _track(source, "m1", "Report created")
    version = _product_journey()
    type(version).objects.filter(pk=version.pk).update(launched_at=timezone.now() + timedelta(seconds=1))
    _follow()
    assert enrollments(version) == []


def test_a_wait_for_a_product_event_is_woken_by_it(source):
    waiting = live_journey(
        {
            "key": "waits-for-report",
            "name": "Waits",
            "entry": {"trigger": "manual"},
            "steps": [
                {"id": "ev", "type": "wait", "event": "Report created", "timeout_days": 5},
                {"id": "t", "type": "tag", "tag": "x"},
            ],
        }
    )
    account = AccountFactory(external_id="acme")
    enrollment = Enrollment.objects.create(
        journey=waiting.journey,
        version=waiting,
        account=account,
        subject_key=f"account:{account.pk}",
        step_id="ev",
        waiting_for="Report created",
        wake_at=timezone.now() + timedelta(days=5),
    )
    _track(source, "m1", "Report created")
    _follow()
    enrollment.refresh_from_db()
    assert enrollment.event_seen_at is not None


def test_nothing_to_follow_costs_one_query(source, django_assert_num_queries):
    AccountFactory(external_id="acme")
    _track(source, "m1", "Report created")
    with django_assert_num_queries(1):
        assert triggers.follow_product_events() == 0
    assert not JourneyCursor.objects.exists()
