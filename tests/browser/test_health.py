from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.factories import UserFactory
from tests.health.helpers import old_account, subscription, touch, usage
from touchpoint.health import services
from touchpoint.users.roles import Role

pytestmark = pytest.mark.django_db(transaction=True)


def test_account_page_explains_the_score_and_portfolio_filters_by_grade(page, live_server, log_in):
    csm = UserFactory(role=Role.CSM, email="csm@example.com")
    today = timezone.localdate()
    account = old_account(name="Blue Harbor", owner=csm)
    subscription(account, started=today - timedelta(days=400), seats=4, renewal=today + timedelta(days=200))
    touch(account, on=today - timedelta(days=3))
    usage(account, first=today - timedelta(days=80), last=today, events=12, users=3)  # steady, busy
    quiet = old_account(name="Quiet Fields", owner=csm)
    subscription(quiet, started=today - timedelta(days=400), seats=10)
    touch(quiet, on=today - timedelta(days=150))
    touch(quiet, on=today - timedelta(days=2), kind="payment_failed")
    # Its usage fell away: a long-time customer leaving.
    usage(quiet, first=today - timedelta(days=80), last=today - timedelta(days=30), events=20)
    usage(quiet, first=today - timedelta(days=29), last=today, events=1)
    services.recompute_health(day=today)

    log_in(page, csm)
    page.goto(f"{live_server.url}/accounts/?grade=red")
    expect(page.locator("#portfolio-table")).to_contain_text("Quiet Fields")
    expect(page.locator("#portfolio-table")).not_to_contain_text("Blue Harbor")
    expect(page.locator("#health-distribution svg")).to_be_visible()
    page.goto(f"{live_server.url}/accounts/{account.pk}/")
    panel = page.locator("#health-panel")
    expect(panel).to_contain_text("Engagement recency")
    expect(panel).to_contain_text("Not enough data")  # breadth: no key features defined
    expect(panel.locator(".grade")).to_have_attribute("data-grade", "green")
