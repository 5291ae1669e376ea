"""Simulating a journey touches nothing: no write, no email, no task, no webhook request."""

from __future__ import annotations

import http.server
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.apps import apps
from django.core import mail
from django.db import connection

from tests.factories import AccountFactory, ContactFactory
from tests.journeys.test_simulation import definition
from touchpoint.events.models import DomainEvent
from touchpoint.journeys.models import WebhookEndpoint
from touchpoint.journeys.simulation import simulate

NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


class Receiver(http.server.BaseHTTPRequestHandler):
    received: list[str] = []

    def do_POST(self) -> None:
        Receiver.received.append(self.path)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def receiver():
    Receiver.received = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


def refuse_writes(execute, sql, params, many, context):
    if sql.lstrip().upper().startswith(WRITES) or " RETURNING " in sql.upper():
        raise AssertionError(f"the simulation wrote: {sql[:200]}")
    return execute(sql, params, many, context)


def row_counts() -> dict[str, int]:
    counted = {}
    for label in ("journeys", "tasks", "accounts", "events", "playbooks"):
        try:
            config = apps.get_app_config(label)
        except LookupError:
            continue
        for model in config.get_models():
            counted[model._meta.label] = model._default_manager.count()
    return counted


@pytest.mark.django_db
def test_simulating_a_journey_with_every_kind_of_effect_writes_and_sends_nothing(receiver):
    WebhookEndpoint.objects.create(name="crm", url=receiver, secret="s3cret")
    accounts = [AccountFactory(engagement_model=model) for model in ("low", "hybrid", "high")]
    for account in accounts:
        ContactFactory(account=account, roles=["champion"])
        DomainEvent.objects.create(
            kind="account.created", account_id=account.pk, payload={}, occurred_at=NOW - timedelta(days=20)
        )
    journey = definition(
        entry={"trigger": "event", "event": "account.created"},
        steps=[
            {"id": "hello", "type": "email", "message": "hello", "by_engagement": True, "task_title": "Call"},
            {"id": "nudge", "type": "in_app", "message": "hello"},
            {"id": "day", "type": "wait", "days": 1},
            {"id": "task", "type": "task", "title": "Check in"},
            {"id": "hook", "type": "webhook", "endpoint": "crm"},
            {"id": "tag", "type": "tag", "tag": "welcomed"},
            {"id": "attr", "type": "set_attribute", "name": "welcomed", "value": True},
        ],
    )
    before = row_counts()
    mail.outbox.clear()

    with connection.execute_wrapper(refuse_writes):
        result = simulate(journey, days=90, now=NOW)

    # It did simulate all of it...
    assert result.entered == 3
    assert result.effects == {"email": 2, "in_app": 3, "task": 5, "webhook": 3, "tag": 3, "set_attribute": 3}
    # ...and nothing left the process or changed in the database.
    assert mail.outbox == []
    assert Receiver.received == []
    assert row_counts() == before
    assert before["journeys.OutboxRow"] == 0 and before["tasks.Task"] == 0


@pytest.mark.django_db
def test_the_write_guard_catches_a_write():
    # The guard itself must fail on a write, or the test above proves nothing.
    with pytest.raises(AssertionError, match="the simulation wrote"):
        with connection.execute_wrapper(refuse_writes):
            AccountFactory()
