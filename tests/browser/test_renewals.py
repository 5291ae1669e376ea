from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.factories import AccountFactory, UserFactory
from touchpoint.revenue import services
from touchpoint.revenue.models import ChurnReason, Subscription, SubscriptionStatus
from touchpoint.users.roles import Role

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_csm_sees_their_renewals_opens_the_calendar_and_manages_a_subscription(page, live_server, log_in):
    ChurnReason.objects.get_or_create(
        name="Missing features"
    )  # transactional tests empty the table after them
    csm = UserFactory(role=Role.CSM, email="csm@example.com", full_name="Casey Sun")
    other = UserFactory(role=Role.CSM, email="other@example.com")
    today = timezone.localdate()
    mine = AccountFactory(name="Orbit Labs", owner=csm)
    services.create_subscription(
        confirm=True,
        account=mine,
        product="Cloud",
        mrr=Decimal("250"),
        started_on=today - timedelta(days=300),
        renewal_date=today + timedelta(days=3),
    )
    services.create_subscription(
        confirm=True,
        account=AccountFactory(name="Not Mine Inc", owner=other),
        product="Cloud",
        mrr=Decimal("99"),
        started_on=today - timedelta(days=300),
        renewal_date=today + timedelta(days=5),
    )
    log_in(page, csm)
    page.hover("[data-nav-group=revenue] .navgroup-label")  # the menu's drop-down
    page.get_by_role("link", name="Renewals").click()
    expect(page.locator("#renewals")).to_contain_text("Orbit Labs")
    expect(page.locator("#renewals")).to_contain_text("3,000")
    expect(page.locator("#renewals")).not_to_contain_text("Not Mine Inc")
    renewal_day = today + timedelta(days=3)
    if renewal_day.month != today.month:
        page.get_by_role("link", name=f"{renewal_day:%B %Y} ›").click()
    expect(page.locator("#calendar")).to_contain_text("Orbit Labs")
    expect(page.locator("#forecast-table")).to_be_visible()

    page.locator("#calendar").get_by_role("link", name="Orbit Labs").click()
    panel = page.locator("#subscriptions-panel")
    expect(panel).to_contain_text("Cloud")
    panel.get_by_text("Add a subscription").click()
    adding = panel.locator(".add-subscription")
    adding.get_by_label("Product").fill("Analytics add-on")
    adding.get_by_label("MRR").fill("80")
    adding.get_by_label("Currency").fill(
        "X1Y"
    )  # the browser cannot know this is no currency; the server says so
    adding.get_by_role("button", name="Add subscription").click()
    expect(panel.locator(".add-subscription .field-error")).to_be_visible()
    panel.locator(".add-subscription").get_by_label("Currency").fill("USD")
    panel.locator(".add-subscription").get_by_role("button", name="Add subscription").click()
    expect(panel.locator("#subscriptions")).to_contain_text("Analytics add-on")
    expect(panel.locator("#movements")).to_contain_text("Expansion")

    row = panel.locator("#subscriptions tr", has_text="Analytics add-on")
    row.get_by_text("Cancel", exact=True).click()
    cancel_form = row.locator("form", has=page.get_by_role("button", name="Cancel subscription"))
    cancel_form.get_by_label("Reason").select_option(label="Missing features")
    cancel_form.get_by_role("button", name="Cancel subscription").click()
    expect(panel.locator("#movements")).to_contain_text("Contraction")
    assert Subscription.objects.get(product="Analytics add-on").status == SubscriptionStatus.CANCELED
