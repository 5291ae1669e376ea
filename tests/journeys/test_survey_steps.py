"""The survey-step seam (journeys/survey_steps.py): a survey step is an email or in-app message whose
words come from the registered provider; a provider's SurveySkipped suppresses the email."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from django.test import Client
from django.utils import timezone

from tests.factories import ContactFactory
from tests.journeys.delivery_support import Inbox, free_port, part_of, subject_of
from tests.journeys.engine_support import live_version
from touchpoint.journeys import engine, survey_steps
from touchpoint.journeys.delivery import send_due
from touchpoint.journeys.models import DeliverySettings, OutboxKind, OutboxRow, OutboxStatus
from touchpoint.usage.services import create_source

pytestmark = pytest.mark.django_db


class FakeProvider:
    def __init__(self) -> None:
        self.skip = ""
        self.calls: list[int] = []

    def message(self, *, row, account, contact, now):
        self.calls.append(row.pk)
        if self.skip:
            raise survey_steps.SurveySkipped(self.skip)
        return survey_steps.SurveyMessage(
            subject=f"How are we doing, {contact.name}?",
            text=f"Answer here: https://cs.example.com/s/{row.pk}/\n",
            html=f'<p><a href="https://cs.example.com/s/{row.pk}/">Answer</a></p>',
            language="en",
            url=f"https://cs.example.com/s/{row.pk}/",
            cta_label="Answer",
        )


@pytest.fixture
def provider(monkeypatch):
    fake = FakeProvider()
    registered = survey_steps.SurveyProvider(survey_keys=lambda: ["nps"], message=fake.message)
    monkeypatch.setattr(survey_steps, "_PROVIDER", [registered])
    return fake


@pytest.fixture
def smtp(settings):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    DeliverySettings.objects.update_or_create(
        pk=1, defaults={"quiet_hours_start": "00:00", "quiet_hours_end": "00:00"}
    )
    yield inbox
    controller.stop()


def test_a_survey_email_is_written_by_the_provider_and_sent_once(provider, smtp, account):
    contact = ContactFactory(account=account, name="Ann Lee", email="ann@example.com")
    version = live_version([{"id": "ask", "type": "survey", "survey": "nps"}], subject="contact")
    engine.enroll(version=version, account=account, contact=contact)
    row = OutboxRow.objects.get(kind=OutboxKind.EMAIL)
    send_due()
    send_due()
    row.refresh_from_db()
    assert row.status == OutboxStatus.SENT
    assert len(smtp.messages) == 1
    message = smtp.messages[0]
    assert subject_of(message) == "How are we doing, Ann Lee?"
    assert f"https://cs.example.com/s/{row.pk}/" in part_of(message, "text/plain")
    assert "Unsubscribe" in part_of(message, "text/html")  # journeys' footer, as every journey email
    assert provider.calls == [row.pk]


def test_a_skipped_survey_email_is_suppressed_with_the_reason(provider, smtp, account):
    contact = ContactFactory(account=account, email="bo@example.com")
    provider.skip = "throttled"
    engine.enroll(
        version=live_version([{"id": "ask", "type": "survey", "survey": "nps"}], subject="contact"),
        account=account,
        contact=contact,
    )
    send_due()
    row = OutboxRow.objects.get(kind=OutboxKind.EMAIL)
    assert (row.status, row.suppressed_reason) == (OutboxStatus.SUPPRESSED, "throttled")
    assert smtp.messages == []


def test_an_in_app_survey_reaches_the_messages_api_with_its_link(provider, account):
    contact = ContactFactory(account=account, external_id="user-7")
    engine.enroll(
        version=live_version(
            [{"id": "ask", "type": "survey", "survey": "nps", "channel": "in_app"}], subject="contact"
        ),
        account=account,
        contact=contact,
    )
    row = OutboxRow.objects.get(kind=OutboxKind.IN_APP)
    assert row.status == OutboxStatus.SENT and row.sent_at <= timezone.now()
    source = create_source(name="Product", actor=None)
    token = base64.b64encode(f"{source.write_key}:".encode()).decode()
    body = Client(HTTP_AUTHORIZATION=f"Basic {token}").get("/v1/messages", {"userId": "user-7"}).json()
    [message] = body["messages"]
    assert message["survey"] == "nps"
    assert message["cta"] == {"label": "Answer", "url": f"https://cs.example.com/s/{row.pk}/"}
    provider.skip = "answered"  # answered since: no longer shown
    body = Client(HTTP_AUTHORIZATION=f"Basic {token}").get("/v1/messages", {"userId": "user-7"}).json()
    assert body["messages"] == []


def test_the_simulation_names_a_survey_step_instead_of_rendering_it(provider, account):
    from tests.factories import ContactFactory as Contacts
    from touchpoint.journeys.definition import parse
    from touchpoint.journeys.simulation import simulate

    Contacts(account=account, email="sim@example.com")
    # Created a month ago: an account created today enters at today's date scan, which has not
    # happened yet when the suite runs before it (the simulation covers only what has happened).
    type(account).objects.filter(pk=account.pk).update(created_at=timezone.now() - timedelta(days=30))
    definition = parse(
        {
            "key": "ask",
            "name": "Ask",
            "subject": "contact",
            "entry": {"trigger": "date", "date": "account_created", "days": 0},
            "steps": [{"id": "ask", "type": "survey", "survey": "nps"}],
        }
    )
    result = simulate(definition, days=400)
    assert result.effects["email"] >= 1
    assert {m["subject"] for m in result.messages} == {"Survey “nps”"}
    assert not any(m["error"] for m in result.messages)
