"""Journey webhooks to a real HTTP server on 127.0.0.1: signed as Stripe signs, retried with
backoff, parked as failed with the error, and a slow receiver holds back only its own rows."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.factories import ContactFactory
from tests.journeys.delivery_support import make_version, webhook_row
from touchpoint.journeys import delivery, webhooks
from touchpoint.journeys.delivery import send_due
from touchpoint.journeys.models import OutboxRow, OutboxStatus, WebhookEndpoint
from touchpoint.journeys.webhooks import sign, verify_signature

MOMENT = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
SECRET = "whsec_test_0123456789"


class Receiver:
    """A local HTTP server: records each request; answers with the next status of `replies`
    (200 when none is left); `delay` seconds before answering paths starting with /slow."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.replies: list[int] = []
        self.delay = 0.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                if self.path.startswith("/slow"):
                    time.sleep(receiver.delay)
                status = receiver.replies.pop(0) if receiver.replies else 200
                self.send_response(status)
                if status in (301, 302, 307):
                    self.send_header("Location", f"http://127.0.0.1:{self.server.server_port}/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    found = Receiver()
    yield found
    found.stop()


@pytest.fixture
def version(db):
    return make_version()


def endpoint(receiver: Receiver, name: str = "crm", path: str = "/hooks") -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(name=name, url=receiver.url + path, secret=SECRET)


@pytest.mark.django_db
def test_a_webhook_is_posted_signed_with_the_rows_stable_id(receiver, version):
    endpoint(receiver)
    contact = ContactFactory(name="Ann Lee", email="ann@acme.example")
    row = webhook_row(version, contact)
    assert send_due(now=MOMENT) == 1
    [request] = receiver.requests
    assert request["path"] == "/hooks"
    assert request["headers"]["Content-Type"] == "application/json"
    assert verify_signature(SECRET, request["headers"]["Touchpoint-Signature"], request["body"])
    document = json.loads(request["body"])
    assert document["id"] == row.pk and document["type"] == "journey.step"
    assert document["created"] == int(row.created_at.timestamp())
    assert document["data"] == {
        "journey": "welcome",
        "step": "hook",
        "enrollment": row.enrollment_id,
        "account": {
            "id": contact.account_id,
            "name": contact.account.name,
            "external_id": contact.account.external_id,
        },
        "contact": {"id": contact.pk, "name": "Ann Lee", "email": "ann@acme.example"},
    }
    row.refresh_from_db()
    assert row.status == OutboxStatus.SENT and row.attempts == 1
    assert send_due(now=MOMENT + timedelta(hours=1)) == 0
    assert len(receiver.requests) == 1


def test_verify_signature_refuses_forgeries_and_old_timestamps():
    body = b'{"id":1}'
    now = 1_800_000_000
    header = sign(SECRET, body, at=now)
    assert verify_signature(SECRET, header, body, now=now + 299)
    assert verify_signature(SECRET, header, body.decode(), now=now)
    assert not verify_signature(SECRET, header, body, now=now + 301)  # replayed later
    assert not verify_signature("whsec_other", header, body, now=now)
    assert not verify_signature(SECRET, header, b'{"id":2}', now=now)
    assert not verify_signature(SECRET, "", body, now=now)
    assert not verify_signature(SECRET, "t=abc,v1=00", body, now=now)
    assert not verify_signature(SECRET, f"t={now}", body, now=now)
    # A rotated secret: several v1 values, any may match.
    assert verify_signature(SECRET, header + ",v1=deadbeef", body, now=now)


@pytest.mark.django_db
def test_failures_back_off_then_the_row_is_parked_with_the_last_error(receiver, version):
    endpoint(receiver)
    row = webhook_row(version)
    receiver.replies = [500] * 5 + [503]
    moment = MOMENT
    waits = []
    for _ in range(6):
        assert send_due(now=moment) == 0
        row.refresh_from_db()
        if row.status == OutboxStatus.FAILED:
            break
        assert row.status == OutboxStatus.PENDING and row.last_error == "HTTP 500"
        waits.append(row.next_attempt_at - moment)
        assert send_due(now=row.next_attempt_at - timedelta(seconds=1)) == 0  # not before its time
        moment = row.next_attempt_at
    assert waits == [timedelta(minutes=m) for m in (1, 5, 30, 120, 720)]
    assert row.status == OutboxStatus.FAILED and row.attempts == 6
    assert "parked" in row.last_error and "HTTP 503" in row.last_error
    assert len(receiver.requests) == 6
    # Every retry carried the same id and body.
    assert len({r["body"] for r in receiver.requests}) == 1


@pytest.mark.django_db
def test_a_retry_that_succeeds_marks_the_row_sent(receiver, version):
    endpoint(receiver)
    row = webhook_row(version)
    receiver.replies = [502]
    send_due(now=MOMENT)
    assert send_due(now=MOMENT + timedelta(minutes=1)) == 1
    row.refresh_from_db()
    assert row.status == OutboxStatus.SENT and row.attempts == 2 and row.last_error == ""


@pytest.mark.django_db
def test_redirects_are_not_followed(receiver, version):
    endpoint(receiver)
    row = webhook_row(version)
    receiver.replies = [302]
    send_due(now=MOMENT)
    row.refresh_from_db()
    assert row.status == OutboxStatus.PENDING and "302" in row.last_error
    assert [r["path"] for r in receiver.requests] == ["/hooks"]  # /elsewhere never called


@pytest.mark.django_db
def test_an_unreachable_endpoint_is_retried(version):
    from tests.journeys.delivery_support import free_port

    WebhookEndpoint.objects.create(name="crm", url=f"http://127.0.0.1:{free_port()}/x", secret=SECRET)
    row = webhook_row(version)
    send_due(now=MOMENT)
    row.refresh_from_db()
    assert row.status == OutboxStatus.PENDING and "could not reach" in row.last_error


@pytest.mark.django_db
def test_a_missing_or_switched_off_endpoint_fails_the_row(receiver, version):
    missing = webhook_row(version, endpoint="nowhere")
    off = endpoint(receiver, name="off")
    off.is_active = False
    off.save()
    switched_off = webhook_row(version, endpoint="off")
    send_due(now=MOMENT)
    missing.refresh_from_db()
    switched_off.refresh_from_db()
    assert missing.status == OutboxStatus.FAILED and "nowhere" in missing.last_error
    assert switched_off.status == OutboxStatus.FAILED and "switched off" in switched_off.last_error
    assert receiver.requests == []


@pytest.mark.django_db(transaction=True)
def test_a_slow_receiver_delays_only_its_own_rows(receiver, monkeypatch):
    monkeypatch.setattr(webhooks, "TIMEOUT_SECONDS", 1)
    receiver.delay = 3
    version = make_version()
    endpoint(receiver, name="slow", path="/slow")
    endpoint(receiver, name="crm", path="/fast")
    slow_rows = [webhook_row(version, endpoint="slow") for _ in range(3)]
    fast_rows = [webhook_row(version, endpoint="crm") for _ in range(3)]
    started = time.monotonic()
    assert send_due(now=MOMENT) == 3
    assert time.monotonic() - started < 2.9  # one time-out, not three
    assert {OutboxRow.objects.get(pk=r.pk).status for r in fast_rows} == {OutboxStatus.SENT}
    statuses = [OutboxRow.objects.get(pk=r.pk) for r in slow_rows]
    assert statuses[0].status == OutboxStatus.PENDING and "timed out" in statuses[0].last_error
    # The slow endpoint's other rows were not tried in this pass (no attempt spent on them).
    assert [r.attempts for r in statuses[1:]] == [0, 0]


def test_backoff_schedule():
    assert [delivery.backoff_after(n) for n in range(1, 7)] == [*delivery.BACKOFF, None]
