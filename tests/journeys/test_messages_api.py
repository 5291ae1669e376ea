"""In-app messages for the product: GET /v1/messages?userId=U, POST /v1/messages/{id}/seen|clicked."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tests.factories import AccountFactory, ContactFactory
from tests.journeys.entries_support import live_journey
from touchpoint.journeys.models import Enrollment, OutboxKind, OutboxRow, OutboxStatus
from touchpoint.usage.models import ProductUser
from touchpoint.usage.services import create_source

pytestmark = pytest.mark.django_db

WELCOME = {
    "key": "in-app-welcome",
    "name": "In-app welcome",
    "subject": "contact",
    "entry": {"trigger": "manual"},
    "messages": {
        "hello": {
            "en": {
                "subject": "Welcome, {{ contact.name }}",
                "body": "Your account {{ account.name }} is ready.",
                "cta_label": "Take the tour",
                "cta_url": "https://app.example.com/tour",
            },
            "ja": {"subject": "ようこそ {{ contact.name }}", "body": "準備ができました。"},
        },
        "later": {"en": {"subject": "Tip", "body": "Try reports."}},
    },
    "steps": [
        {"id": "hi", "type": "in_app", "message": "hello"},
        {"id": "tip", "type": "in_app", "message": "later"},
        {"id": "mail", "type": "in_app", "message": "later"},
    ],
}


@pytest.fixture
def source():
    return create_source(name="Product", actor=None)


def _client(source, key: str | None = None) -> Client:
    token = base64.b64encode(f"{key or source.write_key}:".encode()).decode()
    return Client(HTTP_AUTHORIZATION=f"Basic {token}")


def _message(contact, step_id: str, *, status=OutboxStatus.SENT, sent_minutes_ago=10, kind=OutboxKind.IN_APP):
    version = live_journey(WELCOME) if not Enrollment.objects.exists() else Enrollment.objects.first().version
    enrollment, _created = Enrollment.objects.get_or_create(
        version=version,
        subject_key=f"contact:{contact.pk}",
        entry_key="",
        defaults={
            "journey": version.journey,
            "account": contact.account,
            "contact": contact,
            "step_id": step_id,
        },
    )
    return OutboxRow.objects.create(
        enrollment=enrollment,
        step_id=step_id,
        kind=kind,
        recipient_key=f"contact:{contact.pk}",
        account=contact.account,
        contact=contact,
        status=status,
        payload={"message": {"hi": "hello"}.get(step_id, "later")},
        sent_at=timezone.now() - timedelta(minutes=sent_minutes_ago) if status == OutboxStatus.SENT else None,
    )


def test_lists_the_persons_messages_newest_first_in_their_language(source):
    account = AccountFactory(name="Acme")
    person = ContactFactory(account=account, name="Aiko", external_id="user-1", language="ja")
    older = _message(person, "hi", sent_minutes_ago=30)
    newer = _message(person, "tip", sent_minutes_ago=5)
    _message(person, "mail", status=OutboxStatus.PENDING)  # not delivered yet
    someone_else = ContactFactory(account=account, external_id="user-2")
    _message(someone_else, "hi")

    response = _client(source).get("/v1/messages", {"userId": "user-1"})
    assert response.status_code == 200
    messages = response.json()["messages"]
    assert [m["id"] for m in messages] == [newer.pk, older.pk]
    welcome = messages[1]
    assert welcome["title"] == "ようこそ Aiko"
    assert welcome["body"] == "準備ができました。"
    assert welcome["language"] == "ja"
    assert welcome["cta"] is None  # the Japanese text has no button
    assert welcome["seen"] is False

    english = ContactFactory(account=account, name="Bob", external_id="user-3")
    row = _message(english, "hi")
    [message] = _client(source).get("/v1/messages", {"userId": "user-3"}).json()["messages"]
    assert message == {
        "id": row.pk,
        "title": "Welcome, Bob",
        "body": "Your account Acme is ready.",
        "html": message["html"],
        "language": "en",
        "cta": {"label": "Take the tour", "url": "https://app.example.com/tour"},
        "sentAt": row.sent_at.isoformat(),
        "seen": False,
    }


def test_a_product_user_matched_to_a_contact_finds_their_messages(source):
    person = ContactFactory()
    ProductUser.objects.create(user_id="anon-77", contact=person, account=person.account)
    row = _message(person, "hi")
    assert [
        m["id"] for m in _client(source).get("/v1/messages", {"userId": "anon-77"}).json()["messages"]
    ] == [row.pk]
    assert _client(source).get("/v1/messages", {"userId": "stranger"}).json()["messages"] == []


def test_seen_and_clicked_are_recorded_once_and_clicked_hides_the_message(source):
    person = ContactFactory(external_id="user-1")
    row = _message(person, "hi")
    client = _client(source)
    seen = client.post(f"/v1/messages/{row.pk}/seen", {"userId": "user-1"}, content_type="application/json")
    assert seen.status_code == 200
    row.refresh_from_db()
    first_seen = row.opened_at
    assert first_seen is not None and seen.json()["seenAt"] == first_seen.isoformat()
    again = client.post(f"/v1/messages/{row.pk}/seen?userId=user-1")
    assert again.status_code == 200
    row.refresh_from_db()
    assert row.opened_at == first_seen  # once
    assert client.get("/v1/messages", {"userId": "user-1"}).json()["messages"][0]["seen"] is True

    clicked = client.post(
        f"/v1/messages/{row.pk}/clicked", {"userId": "user-1"}, content_type="application/json"
    )
    assert clicked.status_code == 200
    row.refresh_from_db()
    first_click = row.clicked_at
    assert first_click is not None
    client.post(f"/v1/messages/{row.pk}/clicked", {"userId": "user-1"}, content_type="application/json")
    row.refresh_from_db()
    assert row.clicked_at == first_click
    assert client.get("/v1/messages", {"userId": "user-1"}).json()["messages"] == []


def test_clicked_without_seen_also_counts_the_view(source):
    person = ContactFactory(external_id="user-1")
    row = _message(person, "hi")
    _client(source).post(f"/v1/messages/{row.pk}/clicked?userId=user-1")
    row.refresh_from_db()
    assert row.opened_at is not None and row.clicked_at is not None


def test_another_persons_message_is_a_404_and_changes_nothing(source):
    owner = ContactFactory(external_id="user-1")
    ContactFactory(external_id="user-2")
    row = _message(owner, "hi")
    client = _client(source)
    for path in (f"/v1/messages/{row.pk}/seen", f"/v1/messages/{row.pk}/clicked"):
        response = client.post(path, {"userId": "user-2"}, content_type="application/json")
        assert response.status_code == 404
        assert response.json()["success"] is False
    assert client.post("/v1/messages/999999/seen?userId=user-1").status_code == 404
    assert client.post(f"/v1/messages/{'9' * 30}/seen?userId=user-1").status_code == 404
    row.refresh_from_db()
    assert row.opened_at is None and row.clicked_at is None


def test_a_pending_or_email_row_is_not_an_in_app_message(source):
    person = ContactFactory(external_id="user-1")
    pending = _message(person, "hi", status=OutboxStatus.PENDING)
    assert _client(source).post(f"/v1/messages/{pending.pk}/seen?userId=user-1").status_code == 404


def test_a_write_key_is_required(source):
    person = ContactFactory(external_id="user-1")
    _message(person, "hi")
    for client in (Client(), _client(source, key="not-a-key")):
        response = client.get("/v1/messages", {"userId": "user-1"})
        assert response.status_code == 401
        assert response.json()["success"] is False and response.json()["detail"]
        assert client.post("/v1/messages/1/seen?userId=user-1").status_code == 401
    source.is_active = False
    source.save()
    assert _client(source).get("/v1/messages", {"userId": "user-1"}).status_code == 401


@pytest.mark.parametrize(
    "params",
    [{}, {"userId": ""}, {"userId": "x" * 10_000}, {"userId": "bad\x00id"}],
    ids=["missing", "empty", "huge", "nul"],
)
def test_bad_user_ids_are_a_400_naming_the_field(source, params):
    response = _client(source).get("/v1/messages", params)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "userId"


def test_bad_report_bodies_are_a_4xx(source):
    person = ContactFactory(external_id="user-1")
    row = _message(person, "hi")
    client = _client(source)
    url = f"/v1/messages/{row.pk}/seen"
    assert client.post(url, "not json", content_type="application/json").status_code == 400
    assert client.post(url, ["a"], content_type="application/json").status_code == 400
    assert client.post(url, {"userId": 5}, content_type="application/json").status_code == 400
    assert client.post(url, {"userId": "x" * 100_000}, content_type="application/json").status_code == 413
    assert client.get(url).status_code == 405
    assert client.post("/v1/messages").status_code == 405


def test_an_in_app_step_of_a_live_journey_reaches_the_product(source):
    """End to end: the engine enrolls the person, its in-app step makes the row, the product reads it."""
    from touchpoint.journeys.engine import enroll

    version = live_journey({**WELCOME, "steps": [{"id": "hi", "type": "in_app", "message": "hello"}]})
    person = ContactFactory(name="Chen", external_id="user-9")
    assert enroll(version=version, account=person.account, contact=person) is not None
    [message] = _client(source).get("/v1/messages", {"userId": "user-9"}).json()["messages"]
    assert message["title"] == "Welcome, Chen"
    assert message["cta"] == {"label": "Take the tour", "url": "https://app.example.com/tour"}
