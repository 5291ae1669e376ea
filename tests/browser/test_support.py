"""Support in a real browser (issue 16's "done when"): a help desk posts a ticket to the signed webhook
(a real HTTP request to the live server), its first-reply target passes, the minute job records the
breach, and the account's owner sees it on the support page, the ticket's page and as an alert on
their day. In English and in Russian."""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, datetime, time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.events.test_events import settle
from tests.factories import AccountFactory, SegmentFactory, UserFactory
from touchpoint.home.alerts import deliver_alerts
from touchpoint.support import services, webhooks
from touchpoint.support.models import SlaBreach, Ticket
from touchpoint.users.roles import Role

pytestmark = pytest.mark.django_db(transaction=True)


def _post_signed(url: str, secret: str, body: bytes) -> dict:
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", **webhooks.sign_touchpoint(secret, body)},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
        return json.loads(response.read())


@pytest.mark.parametrize("language", ["en", "ru"])
def test_a_ticket_posted_to_the_webhook_breaches_and_alerts_the_owner(page, live_server, log_in, language):
    owner = UserFactory(role=Role.CSM, email="owner@example.com", full_name="Anna Owner")
    tier = SegmentFactory(name="Enterprise", tier=1)
    account = AccountFactory(owner=owner, segment=tier, name="Acme Rockets", external_id="acme-rockets")
    calendar = services.save_calendar(
        name="Always",
        time_zone="UTC",
        working_days=list(range(7)),
        opens_at=time(0),
        closes_at=time(0),
        holidays=[],
        actor=None,
    )
    services.save_policy(
        name="Enterprise",
        segment=tier,
        calendar=calendar,
        targets={"urgent": {"first_reply_minutes": 1, "resolution_minutes": 60}},
        actor=None,
    )
    source = services.create_webhook_source(key="zendesk", kind="zendesk", actor=None)

    # Zendesk's trigger posts the new ticket, signed with the source's secret.
    now = datetime.now(UTC).replace(microsecond=0)
    body = json.dumps(
        {
            "ticket": {
                "id": "7001",
                "subject": f"Rocket telemetry missing ({language})",
                "priority": "Urgent",
                "status": "Open",
                "via": "Mail",
                "created_at": now.isoformat(),
                "updated_at": now.isoformat(),
                "requester": {"name": "Rita Ray", "email": "rita@acme.example"},
                "organization": {"name": "Acme Rockets", "external_id": "acme-rockets"},
            }
        }
    ).encode()
    answer = _post_signed(f"{live_server.url}/support/webhooks/zendesk/", source.secret, body)
    assert answer["outcome"] == "created" and answer["breached"] is False
    ticket = Ticket.objects.get(pk=answer["ticket"])
    assert ticket.account == account and ticket.next_due_at == ticket.opened_at + timedelta(minutes=1)

    # Time moves on: the minute job runs two minutes later, nobody has replied.
    assert services.check_breaches(now=timezone.now() + timedelta(minutes=2)) == 1
    assert SlaBreach.objects.get(ticket=ticket).metric == "first_reply"
    settle()  # PostgreSQL hands the alerts consumer an event once every older transaction has ended
    deliver_alerts()

    log_in(page, owner)
    if language != "en":
        page.context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    page.goto(f"{live_server.url}/support/")
    if language != "en":
        expect(page.locator("html")).to_have_attribute("lang", language)
    breaches = page.locator("#recent-breaches")
    expect(breaches).to_contain_text(ticket.subject)
    expect(breaches).to_contain_text("Acme Rockets")
    breaches.get_by_role("link", name=ticket.subject).click()
    expect(page).to_have_url(f"{live_server.url}/support/tickets/{ticket.pk}/")
    expect(page.locator("#ticket-breaches li")).to_have_count(1)

    # The owner's day has the alert, linking to the ticket.
    page.goto(f"{live_server.url}/my-day/")
    alert = page.locator(".alert-item.kind-ticketsla_breached")
    expect(alert).to_have_count(1)
    expect(alert).to_contain_text(ticket.subject)
    alert.get_by_role("link").first.click()
    expect(page).to_have_url(f"{live_server.url}/support/tickets/{ticket.pk}/")

    # And the account page shows the open ticket and its breach.
    page.goto(f"{live_server.url}/accounts/{account.pk}/")
    panel = page.locator("#support-panel")
    expect(panel.locator("#account-tickets")).to_contain_text(ticket.subject)
    expect(panel.locator("#account-breaches li")).to_have_count(1)
