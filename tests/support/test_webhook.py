"""The help desks' webhook: signatures (Zendesk's and Touchpoint's), replay window, Zendesk's and
Freshdesk's JSON, idempotency on ticket id and update time."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from touchpoint.support import services, webhooks
from touchpoint.support.models import SlaBreach, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def zendesk(db):
    return services.create_webhook_source(key="zendesk", kind="zendesk", actor=None, secret="z" * 32)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def zendesk_body(**changes) -> bytes:
    now = datetime.now(UTC).replace(microsecond=0)
    ticket = {
        "id": "4711",
        "subject": "Export is stuck",
        "priority": "Urgent",
        "status": "Open",
        "via": "Web Form",
        "created_at": iso(now - timedelta(minutes=10)),
        "updated_at": iso(now - timedelta(minutes=10)),
        "requester": {"name": "Ann Lee", "email": "ann@acme.example"},
        "organization": {"name": "Acme", "external_id": "acme-1"},
        "assignee": {"name": "Sam Agent"},
    } | changes
    return json.dumps({"ticket": ticket}).encode()


def post(source, body: bytes, headers: dict[str, str] | None = None):
    if headers is None:
        headers = webhooks.sign_touchpoint(source.secret, body)
    meta = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}
    return Client().post(f"/support/webhooks/{source.key}/", body, content_type="application/json", **meta)


def test_a_signed_zendesk_ticket_is_recorded_once(zendesk, big_account, policy):
    body = zendesk_body()
    stamp = iso(datetime.now(UTC))
    response = post(zendesk, body, webhooks.sign_zendesk(zendesk.secret, body, stamp))
    assert response.status_code == 200, response.content
    assert response.json()["outcome"] == "created"
    ticket = Ticket.objects.get()
    assert (ticket.account, ticket.priority, ticket.status, ticket.channel) == (
        big_account,
        "urgent",
        "open",
        "web",
    )
    assert ticket.source == "zendesk" and ticket.external_id == "4711" and ticket.assignee == "Sam Agent"
    again = post(zendesk, body, webhooks.sign_zendesk(zendesk.secret, body, stamp))
    assert again.json()["outcome"] == "unchanged" and Ticket.objects.count() == 1


def test_bad_signatures_and_replays_are_refused(zendesk, big_account, policy):
    body = zendesk_body()
    assert post(zendesk, body, {}).status_code == 401
    assert post(zendesk, body, webhooks.sign_touchpoint("wrong" * 8, body)).status_code == 401
    old = webhooks.sign_touchpoint(zendesk.secret, body, int(time.time()) - 600)
    assert post(zendesk, body, old).status_code == 401
    tampered = webhooks.sign_touchpoint(zendesk.secret, body)
    assert post(zendesk, body + b" ", tampered).status_code == 401
    assert not Ticket.objects.exists()
    services.set_webhook_source_active(source=zendesk, active=False, actor=None)
    assert post(zendesk, body).status_code == 404


def test_problems_name_the_field(zendesk, big_account, policy):
    response = post(zendesk, zendesk_body(status="Thinking"))
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "ticket.status"
    response = post(
        zendesk, zendesk_body(organization={"name": "Nobody"}, requester={"email": "x@nowhere.example"})
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "ticket.organization"
    assert post(zendesk, b"{not json").status_code == 400


def test_a_ticket_posted_long_after_its_due_moment_breaches_at_once(zendesk, big_account, policy):
    past = datetime.now(UTC) - timedelta(hours=3)
    response = post(zendesk, zendesk_body(created_at=iso(past), updated_at=iso(past)))
    assert response.json()["breached"] is True
    assert SlaBreach.objects.filter(metric="first_reply").count() == 1


def test_freshdesk_placeholders_and_numbers_are_read(db, big_account, policy):
    source = services.create_webhook_source(key="fd", kind="freshdesk", actor=None)
    body = json.dumps(
        {
            "freshdesk_webhook": {
                "ticket_id": 88,
                "ticket_subject": "Invoice wrong",
                "ticket_priority": "Medium",
                "ticket_status": "Waiting on Customer",
                "ticket_source": "Email",
                "ticket_created_at": iso(datetime.now(UTC) - timedelta(hours=1)),
                "ticket_contact_email": "bob@acme.example",
                "ticket_company_name": "Acme",
            }
        }
    ).encode()
    assert post(source, body).status_code == 200
    ticket = Ticket.objects.get()
    assert (ticket.priority, ticket.status, ticket.channel, ticket.external_id) == (
        "normal",
        "pending",
        "email",
        "88",
    )
    api_body = json.dumps(
        {
            "ticket": {
                "id": 89,
                "subject": "API shape",
                "priority": 4,
                "status": 5,
                "source": 7,
                "created_at": iso(datetime.now(UTC) - timedelta(hours=1)),
                "company": {"name": "Acme"},
            }
        }
    ).encode()
    assert post(source, api_body).status_code == 200
    ticket = Ticket.objects.get(external_id="89")
    assert (ticket.priority, ticket.status, ticket.channel) == ("urgent", "closed", "chat")
    assert ticket.solved_at is not None


def test_verify_is_constant_time_hmac_over_timestamp_and_body():
    body = b'{"a":1}'
    headers = webhooks.sign_touchpoint("s" * 20, body, 1_000_000)
    webhooks.verify("s" * 20, headers, body, now=1_000_100)
    with pytest.raises(webhooks.SignatureError):
        webhooks.verify("s" * 20, headers, body, now=1_000_400)
