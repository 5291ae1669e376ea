import base64
import json
import urllib.request

import pytest
from playwright.sync_api import expect

from tests.factories import UserFactory
from touchpoint.users.roles import Role

pytestmark = pytest.mark.django_db(transaction=True)


def test_admin_creates_a_source_and_watches_an_event_arrive(page, live_server, log_in):
    admin = UserFactory(role=Role.ADMIN, email="admin@example.com")
    log_in(page, admin)
    page.hover("[data-nav-group=setup] .navgroup-label")  # the menu's drop-down
    page.get_by_role("link", name="Event sources").click()
    page.get_by_label("New source").fill("Web app")
    page.get_by_role("button", name="Create source").click()
    write_key = page.locator("#write-key").inner_text()
    expect(page.locator("#recent-events")).to_contain_text("No events yet")

    request = urllib.request.Request(
        f"{live_server.url}/v1/track",
        method="POST",
        data=json.dumps({"userId": "u1", "event": "Browser proof", "messageId": "b-1"}).encode(),
        headers={
            "Content-Type": "application/json",
            "Authorization": "Basic " + base64.b64encode(f"{write_key}:".encode()).decode(),
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    expect(page.locator("#recent-events")).to_contain_text("Browser proof", timeout=10_000)
