"""Feature requests in a real browser: a CSM adds a request from the account page, where typing its
title suggests the request another account already asked for (the duplicate), and picks it; a product
person (a CS leader) marks it shipped with a note, and the account owner's task to tell the customer
appears on their tasks page. In English and in Russian."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.factories import AccountFactory, ContactFactory, UserFactory
from touchpoint.feature_requests import services
from touchpoint.feature_requests.models import FeatureRequest, RequestLink, Status
from touchpoint.tasks.models import Task
from touchpoint.users.roles import Role

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("language", ["en", "ru"])
def test_a_csm_adds_a_request_a_duplicate_is_suggested_and_shipping_makes_the_owners_task(
    page, browser, live_server, log_in, language
):
    csm = UserFactory(role=Role.CSM, email="csm@example.com", full_name="Anna Smirnova")
    pm = UserFactory(role=Role.CS_LEADER, email="pm@example.com", full_name="Rachel Adams")
    account = AccountFactory(owner=csm, name="Northwind")
    ana = ContactFactory(account=account, name="Ana Lopez")
    existing = services.create_request(title="Export reports to CSV", product_area="Reports", actor=pm)
    services.ask(request=existing, account=AccountFactory(name="Globex"), actor=pm)
    services.create_request(title="Single sign-on with Okta", actor=pm)
    cookie = [{"name": "django_language", "value": language, "url": live_server.url}]

    # The CSM writes down what Northwind asks for; the same request is suggested as they type.
    log_in(page, csm)
    page.context.add_cookies(cookie)  # after the sign-in, whose form the fixture reads in English
    page.goto(f"{live_server.url}/accounts/{account.pk}/")
    panel = page.locator("#feature-requests-panel")
    expect(panel.locator(".results-head")).to_be_visible()
    if language != "en":
        expect(page.locator("html")).to_have_attribute("lang", language)
    panel.locator("details.add-request > summary").click()
    panel.locator("#id_ask-title").press_sequentially("CSV export of reports", delay=20)
    suggestions = panel.locator("#fr-suggestion-list")
    expect(suggestions).to_contain_text("Export reports to CSV")
    expect(suggestions).not_to_contain_text("Okta")
    suggestions.locator(f"input[value='{existing.pk}']").check()
    panel.locator("textarea[name=ask-verbatim]").fill("We paste reports into Excel by hand")
    panel.locator("select[name=ask-contact]").select_option(str(ana.pk))
    panel.locator("button[type=submit]").click()
    expect(panel.locator(f"#account-request-{existing.pk}")).to_be_visible()
    assert FeatureRequest.objects.count() == 2  # no new request: the duplicate was picked
    link = RequestLink.objects.get(account=account)
    assert (link.request_id, link.contact_id) == (existing.pk, ana.pk)

    # The product person ships it with a note.
    other = browser.new_context(locale="en-US", timezone_id="UTC")
    pm_page = other.new_page()
    log_in(pm_page, pm)
    other.add_cookies(cookie)
    pm_page.goto(f"{live_server.url}/feature-requests/")
    pm_page.locator(f"#request-{existing.pk} a").click()
    expect(pm_page.locator("#requester-" + str(account.pk))).to_contain_text(
        "We paste reports into Excel by hand"
    )
    status = pm_page.locator("#status")
    status.locator("select[name=status-status]").select_option("shipped")
    status.locator("textarea[name=status-note]").fill("Released in 4.2")
    status.locator("button[type=submit]").click()
    expect(pm_page.locator(".page-head .fr-status")).to_have_class("fr-status fr-shipped")
    expect(pm_page.locator("#history")).to_contain_text("Released in 4.2")
    other.close()
    assert FeatureRequest.objects.get(pk=existing.pk).status == Status.SHIPPED

    # The owner's task to tell Northwind appears on their tasks page.
    task = Task.objects.get(owner=csm)
    page.goto(f"{live_server.url}/tasks/")
    expect(page.get_by_text(task.title)).to_be_visible()
    assert "Northwind" in task.notes and task.about_url == f"/feature-requests/{existing.pk}/"
