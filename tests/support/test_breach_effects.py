"""What a breach sets off: the owner's alert and the signed escalation webhook."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from tests.events.test_events import settle
from tests.support.conftest import NOW
from touchpoint.home.alerts import deliver_alerts
from touchpoint.home.models import Alert
from touchpoint.support import services
from touchpoint.support.models import SlaBreach, SlaTarget

pytestmark = pytest.mark.django_db


@pytest.mark.django_db(transaction=True)  # the alerts consumer reads committed events (PostgreSQL)
def test_a_breach_alerts_the_account_owner(make_ticket, big_account):
    ticket = make_ticket()
    services.check_breaches(now=ticket.first_reply_due_at + timedelta(minutes=1))
    settle()  # PostgreSQL hands the consumer an event once every older transaction has ended
    deliver_alerts()
    alert = Alert.objects.get(kind="ticket.sla_breached")
    assert alert.recipient_id == big_account.owner_id
    assert alert.url == f"/support/tickets/{ticket.pk}/"


class _Receiver(BaseHTTPRequestHandler):
    received: list = []
    status = 200

    def do_POST(self):
        length = int(self.headers["Content-Length"])
        _Receiver.received.append((dict(self.headers), self.rfile.read(length)))
        self.send_response(_Receiver.status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    _Receiver.received, _Receiver.status = [], 200
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


def test_the_escalation_webhook_is_signed_and_retried(make_ticket, policy, receiver):
    url = f"http://127.0.0.1:{receiver.server_port}/hook"
    SlaTarget.objects.filter(policy=policy, priority="urgent").update(
        escalation_url=url, escalation_secret="s3cret"
    )
    ticket = make_ticket()
    services.check_breaches(now=ticket.first_reply_due_at + timedelta(minutes=1))
    breach = SlaBreach.objects.get()
    assert breach.escalation_status == "pending"
    _Receiver.status = 500
    assert services.deliver_escalations(base_url="https://tp.example") == 0
    breach.refresh_from_db()
    assert (
        breach.escalation_status == "pending"
        and breach.escalation_attempts == 1
        and breach.escalation_error == "HTTP 500"
    )
    _Receiver.status = 204
    assert services.deliver_escalations(base_url="https://tp.example") == 1
    breach.refresh_from_db()
    assert breach.escalation_status == "sent"
    headers, body = _Receiver.received[-1]
    stamp = headers[services.TIMESTAMP_HEADER]
    expected = hmac.new(b"s3cret", stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert headers[services.SIGNATURE_HEADER] == expected
    sent = json.loads(body)
    assert sent["ticket"]["url"] == f"https://tp.example/support/tickets/{ticket.pk}/"
    assert sent["target"] == "first_reply" and sent["account"]["name"] == "Acme"
    assert services.deliver_escalations() == 0  # sent once


def test_an_unreachable_webhook_gives_up_after_five_tries(make_ticket, policy):
    SlaTarget.objects.filter(policy=policy, priority="urgent").update(
        escalation_url="http://127.0.0.1:9/none"
    )
    ticket = make_ticket(now=NOW)
    services.check_breaches(now=ticket.first_reply_due_at + timedelta(minutes=1))
    for _ in range(5):
        services.deliver_escalations()
    assert SlaBreach.objects.get().escalation_status == "failed"
