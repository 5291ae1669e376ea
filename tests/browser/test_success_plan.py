"""A success plan in the browser: a CSM writes it from the account page with a KPI, shares it, the
customer opens the shared page logged out (and downloads its PDF), and the page stops opening once
the link is revoked."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.factories import AccountFactory, ContactFactory, FrameworkFactory, UserFactory
from touchpoint.plans.models import PlanKpi, SuccessPlan
from touchpoint.success.models import AccountPlacement
from touchpoint.users.roles import Role

pytestmark = pytest.mark.django_db(transaction=True)

TEMPLATE = {
    "objectives": [{"text": "Cut the time to close the month", "kpis": []}],
    "milestones": [{"title": "Kick-off held", "due_in_days": 14}],
}


def test_a_csm_writes_shares_and_revokes_a_success_plan(page, browser, live_server, log_in):
    csm = UserFactory(role=Role.CSM, email="mika@example.com", full_name="Mika Sato")
    account = AccountFactory(name="Plan Corp", owner=csm)
    champion = ContactFactory(account=account, name="Aiko Tanaka")
    framework = FrameworkFactory(name="Standard", key="standard", plan_template=TEMPLATE)
    AccountPlacement.objects.create(account=account, framework=framework)
    log_in(page, csm)

    # From the account page's panel to the plan page; written from the framework's template.
    page.goto(f"{live_server.url}/accounts/{account.pk}/")
    panel = page.locator("#success-plan-panel")
    expect(panel).to_contain_text("No success plan yet")
    panel.get_by_role("link", name="Write one").click()
    page.get_by_role("button", name="Write a success plan from the Standard template").click()
    plan_section = page.locator("#success-plan")
    expect(plan_section).to_contain_text("Cut the time to close the month")
    page.evaluate("window.__stillHere = true")

    # A KPI, with htmx (no reload).
    objective = page.locator(".plan-objective").first
    objective.get_by_text("Add a KPI").click()
    objective.get_by_label("KPI", exact=True).fill("Days to close the month")
    objective.get_by_label("Unit").fill("days")
    objective.get_by_label("Baseline").fill("10")
    objective.get_by_label("Target").fill("5")
    objective.get_by_label("Current").fill("8")
    objective.get_by_label("KPI owner").select_option(value=str(champion.pk))
    objective.get_by_role("button", name="Add KPI").click()
    expect(page.locator(".plan-kpis")).to_contain_text("Days to close the month")
    expect(page.locator(".plan-kpis")).to_contain_text("40%")
    assert page.evaluate("window.__stillHere") is True
    assert PlanKpi.objects.get(name="Days to close the month").owner == champion

    # Share it: the link is shown once.
    page.locator(".share-plan summary").click()
    page.locator(".share-plan").get_by_role("button", name="Create link").click()
    link_box = page.locator("#new-share-link")
    expect(link_box).to_be_visible()
    shared_url = link_box.input_value()
    assert "/shared/plans/" in shared_url

    # The customer opens it in a browser of their own: no sign-in.
    customer = browser.new_context()
    try:
        outside = customer.new_page()
        response = outside.goto(shared_url)
        assert response is not None and response.status == 200
        assert "no-store" in response.headers["cache-control"]
        expect(outside.locator("#shared-plan")).to_contain_text("Days to close the month")
        expect(outside.locator("#shared-plan")).to_contain_text("Cut the time to close the month")
        expect(outside.locator("form")).to_have_count(0)
        pdf = outside.request.get(shared_url + "pdf")
        assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
        assert pdf.body().startswith(b"%PDF")

        # Revoked: the shared page no longer opens.
        page.locator("#share-links").get_by_role("button", name="Revoke").click()
        expect(page.locator("#share-links")).to_contain_text("revoked")
        gone = outside.goto(shared_url)
        assert gone is not None and gone.status == 410
        expect(outside.locator("#shared-gone")).to_contain_text("withdrawn")
        assert outside.request.get(shared_url + "pdf").status == 410
    finally:
        customer.close()
    assert SuccessPlan.objects.get(account=account).share_links.get().revoked_at is not None

    # Every change is on the account's timeline.
    page.goto(f"{live_server.url}/accounts/{account.pk}/")
    timeline = page.locator("#timeline-entries")
    expect(timeline).to_contain_text("KPI added to the success plan: Days to close the month")
    expect(timeline).to_contain_text("Success plan link revoked")

    # At a phone's width the plan page fits the screen.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/accounts/{account.pk}/success-plan/")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
