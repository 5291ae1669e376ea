"""Journeys react to answers: the `survey.answered` event as an entry, `contact.last_nps` as a field,
and an in-app survey through the product's `GET /v1/messages`."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tests.events.test_events import settle
from touchpoint.journeys import services as journeys
from touchpoint.journeys import triggers
from touchpoint.journeys.documents import problems_of
from touchpoint.journeys.fields import field_named
from touchpoint.journeys.interpreter import Subject
from touchpoint.journeys.models import Enrollment, OutboxKind, OutboxRow
from touchpoint.surveys import sending, services
from touchpoint.usage.services import create_source

pytestmark = pytest.mark.django_db

ON_DETRACTORS = """\
key: win-back
name: Win back detractors
subject: contact
entry:
  trigger: event
  event: survey.answered
  where: {field: entry.payload.category, op: eq, value: detractor}
steps:
  - {id: call, type: task, title: Call the detractor}
"""


@pytest.mark.django_db(transaction=True)  # PostgreSQL hands out only the events of ended transactions
def test_a_journey_starts_on_a_detractors_answer(survey, account, contact):
    assert problems_of(ON_DETRACTORS) == []
    version = journeys.save_version(source=ON_DETRACTORS)
    journeys.launch(journey=version.journey)
    services.record_answer(survey=survey, account=account, contact=contact, score=9)
    services.record_answer(survey=survey, account=account, contact=contact, score=1)
    settle()  # PostgreSQL hands out an event once every older transaction in the cluster has ended
    triggers.follow_events()
    [enrollment] = Enrollment.objects.filter(journey=version.journey)
    assert enrollment.contact_id == contact.pk
    assert enrollment.entry_data["payload"]["score"] == 1


def test_last_nps_fields_read_as_of_the_moment(survey, account, contact):
    now = timezone.now()
    services.record_answer(
        survey=survey,
        account=account,
        contact=contact,
        score=4,
        answered_at=now - timedelta(days=30),
        react=False,
    )
    services.record_answer(
        survey=survey,
        account=account,
        contact=contact,
        score=10,
        answered_at=now - timedelta(minutes=1),
        react=False,
    )
    field = field_named("contact.last_nps")
    subject = Subject(account.pk, contact.pk)
    assert field.resolve(subject, now, {}) == 10
    assert field.resolve(subject, now - timedelta(days=10), {}) == 4
    assert field.resolve(subject, now - timedelta(days=40), {}) is None
    assert field_named("account.nps").resolve(subject, now, {}) == 0.0


def test_an_in_app_survey_reaches_the_product_with_its_answer_link(survey, account, settings):
    from tests.factories import ContactFactory

    settings.TOUCHPOINT_BASE_URL = "https://cs.example.com"
    person = ContactFactory(account=account, external_id="user-42", language="ru")
    assert sending.send_survey(survey=survey, contacts=[person], channel="in_app").enrolled == 1
    row = OutboxRow.objects.get(kind=OutboxKind.IN_APP)
    source = create_source(name="Product", actor=None)
    token = base64.b64encode(f"{source.write_key}:".encode()).decode()
    product = Client(HTTP_AUTHORIZATION=f"Basic {token}")
    [message] = product.get("/v1/messages", {"userId": "user-42"}).json()["messages"]
    assert message["title"] and message["language"] == "ru"
    assert "Насколько вероятно" in message["body"]
    assert message["cta"]["url"] == "https://cs.example.com" + sending.answer_path(row)
    Client().post(sending.answer_path(row), {"score": "9"})
    assert product.get("/v1/messages", {"userId": "user-42"}).json()["messages"] == []
