"""At a phone's width (390 px) the menu folds behind a button and no page is wider than the screen."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.factories import AccountFactory, SubscriptionFactory, UserFactory
from touchpoint.users.roles import Role

pytestmark = pytest.mark.django_db(transaction=True)

PAGES = [
    "portfolio",
    "renewals",
    "revenue-dashboard",
    "health-scorecards",
    "imports",
    "sources",
    "key-features",
    "churn-reasons",
    "integrations-stripe",
]


def test_every_main_page_fits_a_phone_and_the_menu_opens(page, live_server, log_in):
    admin = UserFactory(role=Role.ADMIN, email="admin@example.com", full_name="Alexandra Administrator")
    account = AccountFactory(name="A company whose name is rather long for a phone screen", owner=admin)
    SubscriptionFactory(account=account)
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, admin)

    menu = page.locator("label.nav-toggle-label")
    revenue_link = page.locator("nav.mainnav").get_by_role("link", name="Revenue")
    expect(menu).to_be_visible()
    expect(revenue_link).to_be_hidden()
    menu.click()
    expect(revenue_link).to_be_visible()

    for name in PAGES:
        page.goto(live_server.url + reverse(name))
        page.wait_for_load_state("networkidle")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{name} is {width} px wide at 390 px"
    page.goto(live_server.url + reverse("account-detail", args=[account.pk]))
    page.wait_for_load_state("networkidle")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    # At a desktop's width the menu is simply there; a group's entries drop down on hover or focus.
    page.set_viewport_size({"width": 1440, "height": 900})
    expect(menu).to_be_hidden()
    revenue_link = page.locator("nav.mainnav").get_by_role("link", name="Revenue")
    expect(revenue_link).to_be_hidden()
    page.hover("[data-nav-group=revenue] .navgroup-label")
    expect(revenue_link).to_be_visible()
    page.mouse.move(700, 600)
    expect(revenue_link).to_be_hidden()
    page.focus("[data-nav-group=revenue] .navgroup-label")  # the keyboard opens it too
    expect(revenue_link).to_be_visible()
