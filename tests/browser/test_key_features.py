from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.factories import AccountFactory, UserFactory
from touchpoint.usage.services import create_source, ingest
from touchpoint.users.roles import Role

pytestmark = pytest.mark.django_db(transaction=True)


def test_admin_marks_a_key_feature_and_the_account_shows_it_in_its_breadth(page, live_server, log_in):
    admin = UserFactory(role=Role.ADMIN, email="admin@example.com")
    account = AccountFactory(external_id="acme", name="Acme Rockets")
    now = timezone.now()
    ingest(
        source=create_source(name="App", actor=None),
        payloads=[
            {
                "type": "track",
                "messageId": f"m{n}",
                "userId": f"u{n % 2}",
                "event": name,
                "context": {"groupId": "acme"},
                "timestamp": (now - timedelta(days=n)).isoformat(),
            }
            for n, name in enumerate(["Report created", "Report shared", "Report created"])
        ],
    )
    log_in(page, admin)
    page.goto(f"{live_server.url}/accounts/{account.pk}/")
    expect(page.locator("#usage-panel")).to_contain_text("No key features defined")

    page.hover("[data-nav-group=setup] .navgroup-label")  # the menu's drop-down
    page.get_by_role("link", name="Key features").click()
    row = page.locator("tr", has_text="Report shared")
    row.get_by_placeholder("Label (optional)").fill("Sharing")
    row.get_by_role("button", name="Mark as key feature").click()
    expect(page.locator("tr", has_text="Report shared")).to_contain_text("Unmark")  # swapped in place

    page.goto(f"{live_server.url}/accounts/{account.pk}/")
    expect(page.locator("#usage-panel")).to_contain_text("1 of 1 key features")
    expect(page.locator("#usage-panel")).to_contain_text("Stickiness")
