import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.factories import UserFactory
from touchpoint.accounts.models import Account
from touchpoint.users.roles import Role

pytestmark = pytest.mark.django_db(transaction=True)


def test_upload_a_csv_with_an_error_see_row_and_column_fix_the_mapping_and_import(
    page, live_server, log_in, settings, tmp_path
):
    settings.DATA_DIR = tmp_path
    admin = UserFactory(role=Role.ADMIN, email="admin@example.com")
    csv_file = tmp_path / "companies.csv"
    csv_file.write_text("Record ID,Company name,Nickname\nH1,Hub One,Hubby\nH2,,Second\n", encoding="utf-8")

    def worker() -> None:
        # What `touchpoint serve` runs beside the web server; here in the test's own thread (it sets
        # signal handlers) while the live server keeps answering the page's polls.
        call_command("worker", "--batch", "--no-schedules")

    log_in(page, admin)
    page.hover("[data-nav-group=setup] .navgroup-label")  # the menu's drop-down
    page.get_by_role("link", name="Import").click()
    page.get_by_label("The file holds").select_option("accounts")
    page.get_by_label("CSV file").set_input_files(str(csv_file))
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("#preview")).to_contain_text("Hub One")
    page.get_by_role("button", name="Check (dry run)").click()
    expect(page.get_by_text("Waiting for the worker to start.")).to_be_visible()
    worker()
    expect(page.locator("#import-result")).to_contain_text(
        "row 3, column Company name: Required, but empty.", timeout=15000
    )

    page.get_by_label("Name *").select_option("Nickname")
    page.get_by_role("button", name="Check (dry run)").click()
    expect(page.get_by_text("Waiting for the worker to start.")).to_be_visible()
    worker()
    expect(page.locator("#import-summary")).to_contain_text("would create 2", timeout=15000)
    assert not Account.objects.exists()
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_text("Waiting for the worker to start.")).to_be_visible()
    worker()
    expect(page.locator("#import-summary")).to_contain_text("2 created", timeout=15000)
    assert sorted(Account.objects.values_list("name", flat=True)) == ["Hubby", "Second"]
