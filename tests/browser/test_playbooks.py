"""Playbooks in the browser: a CSM starts the renewal playbook from the account page, sees its
progress and next step, and stops it with a reason; the Playbooks page lists steps and rules.
Both at desktop and phone width, in English and Japanese, without anything wider than the screen."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.factories import AccountFactory, SubscriptionFactory, UserFactory
from tests.playbooks.conftest import ship_playbooks
from touchpoint.playbooks.models import PlaybookRule, PlaybookRun, RunStatus
from touchpoint.tasks.models import Task, TaskStatus
from touchpoint.users.roles import Role

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def _no_horizontal_overflow(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize(
    ("locale", "width"), [("en-US", 1440), ("en-US", 390), ("ja-JP", 1440), ("ja-JP", 390)]
)
def test_a_csm_starts_and_stops_the_renewal_playbook(browser, live_server, locale, width):
    ship_playbooks()
    csm = UserFactory(role=Role.CSM, email="aiko@example.com", full_name="Aiko Tanaka")
    account = AccountFactory(name="Renewing Soon KK", owner=csm)
    renewal = timezone.localdate() + timedelta(days=100)
    SubscriptionFactory(account=account, renewal_date=renewal)
    context = browser.new_context(locale=locale, timezone_id="UTC", viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/login/")
        page.locator("input[name=username], input[type=email]").first.fill(csm.email)
        page.locator("input[type=password]").fill("correct horse battery staple")
        page.locator("form button[type=submit]").first.click()
        page.wait_for_url(f"{live_server.url}/my-day/**")
        page.goto(f"{live_server.url}/accounts/{account.pk}/")
        panel = page.locator("#playbooks-panel")
        expect(panel).to_be_visible()
        panel.locator("select[name=playbook]").select_option(label="Renewal")
        panel.locator("form.start-playbook button[type=submit]").click()
        expect(panel.locator(".playbook-run")).to_have_count(1)
        expect(panel.locator(".playbook-run")).to_contain_text("Renewal")
        expect(panel.locator(".playbook-next")).to_contain_text("Renewal review: internal prep")
        run = PlaybookRun.objects.get(account=account)
        assert run.anchor_date == renewal
        panel.locator(".playbook-run").scroll_into_view_if_needed()
        _no_horizontal_overflow(page)
        SHOTS.mkdir(parents=True, exist_ok=True)
        panel.screenshot(path=str(SHOTS / f"playbooks-panel-{locale}-{width}.png"))

        panel.locator(".playbook-run details summary").last.click()
        panel.locator("input[name=reason]").fill("Handled by the account executive")
        panel.locator(".playbook-run form button[type=submit]").click()
        expect(panel.locator(".playbook-run")).to_have_count(0)
        run.refresh_from_db()
        assert run.status == RunStatus.STOPPED
        assert set(Task.objects.filter(account=account).values_list("status", flat=True)) == {
            TaskStatus.CANCELLED
        }

        page.goto(f"{live_server.url}/playbooks/")
        expect(page.locator("#playbook-rules")).to_be_visible()
        expect(page.locator("section.playbook")).to_have_count(4)
        _no_horizontal_overflow(page)
        page.screenshot(path=str(SHOTS / f"playbooks-page-{locale}-{width}.png"), full_page=True)
    finally:
        context.close()


@pytest.mark.parametrize("width", [1440, 390])
def test_a_leader_switches_a_rule_off_and_chooses_its_playbook(browser, live_server, width):
    ship_playbooks()
    leader = UserFactory(role=Role.CS_LEADER, email="lead@example.com", full_name="Lee Leader")
    context = browser.new_context(locale="en-US", timezone_id="UTC", viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/login/")
        page.locator("input[type=email]").first.fill(leader.email)
        page.locator("input[type=password]").fill("correct horse battery staple")
        page.locator("form button[type=submit]").first.click()
        page.wait_for_url(f"{live_server.url}/my-day/**")
        page.goto(f"{live_server.url}/playbooks/")
        row = page.locator("#rule-new_account")
        row.locator("select").select_option(label="Executive business review")
        row.locator("input[type=checkbox]").uncheck()
        row.locator("button[type=submit]").click()
        page.wait_for_url(f"{live_server.url}/playbooks/")
        expect(page.locator("#rule-new_account input[type=checkbox]")).not_to_be_checked()
        _no_horizontal_overflow(page)
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.locator("#playbook-rules").screenshot(path=str(SHOTS / f"playbook-rules-leader-{width}.png"))
        rule = PlaybookRule.objects.get(kind="new_account")
        assert (rule.is_active, rule.playbook.name) == (False, "Executive business review")
    finally:
        context.close()
