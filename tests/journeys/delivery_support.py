"""Outbox rows for the delivery tests (emails and webhooks), made directly as the engine would write
them, and a real SMTP server (aiosmtpd on 127.0.0.1) that can refuse a message at its final dot."""

from __future__ import annotations

import email
import socket
import threading
from datetime import UTC, datetime
from email.header import decode_header, make_header
from itertools import count

from tests.factories import ContactFactory
from touchpoint.journeys.definition import parse
from touchpoint.journeys.models import (
    Enrollment,
    Journey,
    JourneyStatus,
    JourneyVersion,
    OutboxKind,
    OutboxRow,
    subject_key_of,
)

LONG_AGO = datetime(2026, 1, 1, tzinfo=UTC)

DEFINITION = {
    "key": "welcome",
    "name": "Welcome",
    "subject": "contact",
    "entry": {"trigger": "manual"},
    "messages": {
        "hello": {
            "en": {
                "subject": "Welcome to {{ account.name }}, {{ contact.first_name }}",
                "body": "Hello {{ contact.name }},\n\nRead https://docs.example.com/start to begin.",
            },
            "ja": {"subject": "ようこそ {{ contact.name }} 様", "body": "{{ account.name }} へようこそ。"},
        },
        "broken": {"en": {"subject": "x", "body": "{% if contact.name %}never closed"}},
    },
    "steps": [
        {"id": "mail", "type": "email", "message": "hello"},
        {"id": "hook", "type": "webhook", "endpoint": "crm"},
    ],
}

_entry_keys = count(1)


def make_version(definition: dict | None = None, key: str = "welcome") -> JourneyVersion:
    data = dict(definition or DEFINITION, key=key)
    journey = Journey.objects.create(key=key, name=data["name"], status=JourneyStatus.LIVE)
    parsed = parse(data)
    return JourneyVersion.objects.create(
        journey=journey, number=1, definition=parsed.model_dump(mode="json", by_alias=True)
    )


def enroll(version: JourneyVersion, contact) -> Enrollment:
    return Enrollment.objects.create(
        journey=version.journey,
        version=version,
        account=contact.account,
        contact=contact,
        subject_key=subject_key_of(contact.account_id, contact.pk),
        entry_key=f"test-{next(_entry_keys)}",
        step_id="mail",
    )


def email_row(version: JourneyVersion, contact=None, *, message: str = "hello", **fields) -> OutboxRow:
    contact = contact if contact is not None else ContactFactory()
    fields.setdefault("next_attempt_at", LONG_AGO)
    return OutboxRow.objects.create(
        enrollment=enroll(version, contact),
        step_id="mail",
        kind=OutboxKind.EMAIL,
        recipient_key=f"contact:{contact.pk}",
        account=contact.account,
        contact=contact,
        payload={"message": message, "to": ["subject"], "by_engagement": False, "task_title": ""},
        **fields,
    )


def webhook_row(version: JourneyVersion, contact=None, *, endpoint: str = "crm", **fields) -> OutboxRow:
    contact = contact if contact is not None else ContactFactory()
    fields.setdefault("next_attempt_at", LONG_AGO)
    return OutboxRow.objects.create(
        enrollment=enroll(version, contact),
        step_id="hook",
        kind=OutboxKind.WEBHOOK,
        account=contact.account,
        contact=contact,
        payload={"endpoint": endpoint, "event": "journey.step"},
        **fields,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    """An aiosmtpd handler: keeps what it accepts; `refuse[message_id]` answers the next N tries with
    that reply at the final dot instead of 250."""

    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []
        self.refuse: dict[str, list[str]] = {}
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content)
        with self.lock:
            replies = self.refuse.get(message["Message-ID"], [])
            if replies:
                return replies.pop(0)
            self.messages.append(message)
        return "250 OK"

    def ids(self) -> list[str]:
        with self.lock:
            return [m["Message-ID"] for m in self.messages]


def subject_of(message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def part_of(message, content_type: str) -> str:
    for part in message.walk():
        if part.get_content_type() == content_type:
            return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
    raise AssertionError(f"no {content_type} part")
