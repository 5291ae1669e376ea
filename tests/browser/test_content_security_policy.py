"""Under the Content-Security-Policy the pages still work (htmx filters and panels, charts, the
language switcher) and the browser reports no violation."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.factories import AccountFactory, ContactFactory, UserFactory
from touchpoint.users.roles import Role

pytestmark = pytest.mark.django_db(transaction=True)

# Runs before any page script; Playwright adds it outside the page's policy.
LISTEN = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + e.sourceFile + ":" + e.lineNumber);
});
"""


def test_pages_work_with_no_policy_violation(page, live_server, log_in):
    csm = UserFactory(role=Role.CSM, email="mika@example.com", full_name="Mika Sato")
    account = AccountFactory(name="Fabrikam Logistics", owner=csm)
    AccountFactory(name="Northwind Traders", owner=csm)
    ContactFactory(account=account, name="Dana Whit")
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    page.add_init_script(LISTEN)
    log_in(page, csm)

    def violations() -> list[str]:
        found = page.evaluate("window.__cspViolations")
        return found + [text for text in console if "Content Security Policy" in text]

    page.goto(live_server.url + reverse("portfolio"))
    expect(page.locator("#portfolio-table tbody tr")).to_have_count(2)
    page.get_by_label("Search").fill("fabrikam")  # an htmx filter
    expect(page.locator("#portfolio-table tbody tr")).to_have_count(1)
    assert violations() == []

    page.get_by_role("link", name="Fabrikam Logistics").click()  # the account page loads its panels by htmx
    expect(page.locator("#account-name")).to_have_text("Fabrikam Logistics")
    expect(page.locator(".contacts")).to_contain_text("Dana Whit")
    page.wait_for_load_state("networkidle")
    assert violations() == []

    page.goto(live_server.url + reverse("revenue-dashboard"))  # charts
    page.wait_for_load_state("networkidle")
    assert violations() == []

    # The language switcher submits on change from app.js (it had an inline onchange).
    page.select_option("#language-select", "ja")
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page).to_have_url(re.compile(r"/revenue/"))
    assert violations() == []
