import re

import pytest
from playwright.sync_api import expect

from tests.factories import AccountFactory, ContactFactory, UserFactory
from touchpoint.accounts import services
from touchpoint.users.roles import Role

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def csm_with_book():
    csm = UserFactory(role=Role.CSM, email="mika@example.com", full_name="Mika Sato")
    for name in ["Northwind Traders", "Contoso Pharma", "ООО Ромашка", "บริษัท สยามซอฟต์ จำกัด"]:
        AccountFactory(name=name, owner=csm)
    return csm


def test_log_in_search_open_an_account_and_add_a_note(page, live_server, log_in, csm_with_book):
    account = AccountFactory(name="Fabrikam Logistics", owner=csm_with_book)
    ContactFactory(account=account, name="Dana Whit", roles=["champion"])
    log_in(page, csm_with_book)
    page.get_by_role("link", name="Portfolio").click()

    expect(page.locator("#portfolio-table tbody tr")).to_have_count(5)
    page.get_by_label("Search").fill("fabrikam")
    expect(page.locator("#portfolio-table tbody tr")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"q=fabrikam"))

    page.get_by_role("link", name="Fabrikam Logistics").click()
    expect(page.locator("#account-name")).to_have_text("Fabrikam Logistics")
    expect(page.locator(".contacts")).to_contain_text("Dana Whit")
    expect(page.locator(".contacts")).to_contain_text("Champion")

    # Mark the page: a full reload would lose this, an htmx swap keeps it.
    page.evaluate("window.__stillHere = true")
    page.get_by_label("Details").fill("Champion asked for a training session\nSchedule before the QBR.")
    page.get_by_role("button", name="Add to timeline").click()
    first_entry = page.locator("#timeline-entries .timeline-entry").first
    expect(first_entry).to_contain_text("Champion asked for a training session")
    expect(first_entry).to_contain_text("Mika Sato")
    expect(page.get_by_role("status")).to_have_text("Saved.")
    expect(page.get_by_label("Details")).to_have_value("")
    assert page.evaluate("window.__stillHere") is True


def test_an_empty_note_shows_the_error_beside_the_field(page, live_server, log_in, csm_with_book):
    account = AccountFactory(name="Empty Notes Inc", owner=csm_with_book)
    log_in(page, csm_with_book)
    page.goto(f"{live_server.url}/accounts/{account.pk}/")
    page.get_by_role("button", name="Add to timeline").click()
    expect(page.locator(".engagement-form .field-error")).to_have_text("Write something to record.")


def test_log_a_meeting_with_a_contact(page, live_server, log_in, csm_with_book):
    account = AccountFactory(name="Meeting Corp", owner=csm_with_book)
    ContactFactory(account=account, name="Ivan Petrov")
    log_in(page, csm_with_book)
    page.goto(f"{live_server.url}/accounts/{account.pk}/")
    page.get_by_label("Meeting").check()
    page.get_by_label("Subject").fill("Quarterly business review")
    page.get_by_text("When, how long, with whom").click()
    page.get_by_label("Duration (minutes)").fill("60")
    page.get_by_label("With").select_option(label="Ivan Petrov")
    page.get_by_role("button", name="Add to timeline").click()
    first_entry = page.locator("#timeline-entries .timeline-entry").first
    expect(first_entry).to_contain_text("Quarterly business review")
    expect(first_entry).to_contain_text("60 minutes")
    expect(first_entry).to_contain_text("Ivan Petrov")


def test_older_timeline_entries_load_in_pages(page, live_server, log_in, csm_with_book, settings):
    account = AccountFactory(name="Long History Ltd", owner=csm_with_book)
    for index in range(45):
        services.log_engagement(account=account, kind="note", actor=csm_with_book, body=f"Entry {index:02d}")
    log_in(page, csm_with_book)
    page.goto(f"{live_server.url}/accounts/{account.pk}/")
    entries = page.locator("#timeline-entries .timeline-entry")
    expect(entries).to_have_count(20)
    page.get_by_role("button", name="Show older").click()
    expect(entries).to_have_count(40)
    page.get_by_role("button", name="Show older").click()
    expect(entries).to_have_count(45)
    expect(page.get_by_role("button", name="Show older")).to_have_count(0)


def test_sorting_by_a_column_header(page, live_server, log_in, csm_with_book):
    log_in(page, csm_with_book)
    page.goto(f"{live_server.url}/accounts/")
    first_cell = page.locator("#portfolio-table tbody tr td:first-child a").first
    expect(first_cell).to_have_text("Contoso Pharma")
    page.locator("#portfolio-table thead").get_by_role("link", name=re.compile("Account")).click()
    expect(first_cell).to_have_text("บริษัท สยามซอฟต์ จำกัด")
    expect(page).to_have_url(re.compile(r"sort=-name"))


def test_a_viewer_reads_but_gets_no_form(page, live_server, log_in):
    viewer = UserFactory(role=Role.VIEWER, email="viewer@example.com")
    account = AccountFactory(name="Read Only Co")
    log_in(page, viewer)
    page.goto(f"{live_server.url}/accounts/{account.pk}/")
    expect(page.locator("#account-name")).to_have_text("Read Only Co")
    expect(page.get_by_role("button", name="Add to timeline")).to_have_count(0)


def test_log_out(page, live_server, log_in, csm_with_book):
    log_in(page, csm_with_book)
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login/"))
    page.goto(f"{live_server.url}/accounts/")
    expect(page).to_have_url(re.compile(r"/login/\?next="))


def test_switch_to_japanese_and_back(page, live_server, log_in, csm_with_book):
    log_in(page, csm_with_book)
    page.get_by_label("Language").select_option("ja")
    expect(page.locator(".mainnav")).to_contain_text("ポートフォリオ")
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    page.locator("#language-select").select_option("ru")
    expect(page.locator(".mainnav")).to_contain_text("Портфель")
    page.locator("#language-select").select_option("th")
    expect(page.locator("html")).to_have_attribute("lang", "th")
    page.locator("#language-select").select_option("en")
    expect(page.locator(".mainnav")).to_contain_text("Portfolio")


def test_edit_the_account_header_in_place(page, live_server, log_in, csm_with_book):
    account = AccountFactory(name="Rename Me GmbH", owner=csm_with_book)
    log_in(page, csm_with_book)
    page.goto(f"{live_server.url}/accounts/{account.pk}/")
    page.get_by_text("Edit account").click()
    page.locator("#account-header").get_by_label("Name").fill("Renamed GmbH")
    page.locator("#account-header").get_by_label("Engagement model").select_option("low")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#account-name")).to_have_text("Renamed GmbH")
    expect(page.locator("#account-header .badge-low")).to_be_visible()
    expect(page.locator("#timeline-entries .timeline-entry").first).to_contain_text(
        "Changed name, engagement model"
    )
