import re

import pytest
from playwright.sync_api import expect

from tests.factories import AccountFactory, UserFactory
from touchpoint.users.roles import Role

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_csm_adds_an_account_and_a_contact_then_saves_a_view(page, live_server, log_in):
    csm = UserFactory(role=Role.CSM, email="ines@example.com", full_name="Ines Duarte")
    AccountFactory(name="Mine Already", owner=csm)
    AccountFactory(name="Not In My Book", owner=UserFactory(role=Role.CSM))
    log_in(page, csm)
    page.goto(f"{live_server.url}/accounts/")
    # The portfolio opens on the CSM's book.
    expect(page.locator("#portfolio-table tbody tr")).to_have_count(1)
    expect(page.locator("#portfolio-table")).not_to_contain_text("Not In My Book")

    page.get_by_role("link", name="New account").click()
    page.get_by_label("Name", exact=True).fill("Tailspin Toys")
    page.get_by_label("Domain").fill("not a domain")
    page.get_by_role("button", name="Add account").click()
    expect(page.locator("[data-field=domain] .field-error")).to_contain_text("example.com")
    page.get_by_label("Domain").fill("tailspin.example")
    page.get_by_role("button", name="Add account").click()
    expect(page.locator("#account-name")).to_have_text("Tailspin Toys")
    # Let the account page's panels arrive before leaving it: on SQLite the test server answers one
    # request at a time, and a dozen panel requests would otherwise queue ahead of the next page.
    page.wait_for_load_state("networkidle")

    page.get_by_role("link", name="New contact").click()
    page.get_by_label("Full name").fill("Rosa Campos")
    page.get_by_label("Champion").check()
    page.get_by_role("button", name="Add contact").click()
    expect(page.locator("#key-people")).to_contain_text("Rosa Campos")
    expect(page.locator(".contacts")).to_contain_text("Rosa Campos")

    page.goto(f"{live_server.url}/accounts/")
    page.get_by_label("Accounts", exact=True).select_option("all")
    expect(page.locator("#portfolio-table tbody tr")).to_have_count(3)
    page.locator("#saved-views summary").click()
    page.get_by_label("Name of the view").fill("Everything")
    page.get_by_role("button", name="Save the current filters").click()
    expect(page).to_have_url(re.compile(r"book=all"))
    page.goto(f"{live_server.url}/accounts/")
    expect(page.locator("#portfolio-table tbody tr")).to_have_count(2)
    page.locator("#saved-views summary").click()
    page.get_by_role("link", name="Everything").click()
    expect(page.locator("#portfolio-table tbody tr")).to_have_count(3)


def test_new_account_form_fits_a_phone(page, live_server, log_in):
    csm = UserFactory(role=Role.CSM, email="phone@example.com")
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, csm)
    page.goto(f"{live_server.url}/accounts/new/")
    page.get_by_role("button", name="Add account").click()
    expect(page.locator("[data-field=name] .field-error")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
