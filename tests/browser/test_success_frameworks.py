"""A leader edits a phase rule in the framework editor: the text is checked (problems named with their
line), saved, and the accounts the new rule now admits move phase at once, on their timeline."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from tests.factories import AccountFactory, SubscriptionFactory, UserFactory
from touchpoint.success.demo import LIBRARY
from touchpoint.success.documents import apply_text
from touchpoint.success.models import AccountPlacement, MilestoneReached
from touchpoint.success.placement import place_all
from touchpoint.users.roles import Role

pytestmark = pytest.mark.django_db(transaction=True)

STANDARD = (LIBRARY / "standard.yaml").read_text()


def _account_in_first_use(name: str, framework, days_in: int) -> int:
    account = AccountFactory(name=name)
    SubscriptionFactory(
        account=account,
        started_on=date.today() - timedelta(days=days_in),
        renewal_date=date.today() + timedelta(days=365 - days_in),
    )
    MilestoneReached.objects.create(
        account=account,
        milestone=framework.milestones.get(key="first-report"),
        reached_on=date.today() - timedelta(days=10),
        source="rule",
    )
    return account.pk


def test_a_leader_edits_a_phase_rule_and_accounts_move(page, live_server, log_in):
    leader = UserFactory(role=Role.CS_LEADER, email="lead@example.com", full_name="Lena Park")
    framework = apply_text(STANDARD, actor=None)
    moving = _account_in_first_use("Seventy Days Inc", framework, days_in=70)
    staying = _account_in_first_use("Forty Days Ltd", framework, days_in=40)
    place_all()
    adoption = framework.phases.get(key="adoption")
    log_in(page, leader)

    page.goto(f"{live_server.url}/success/frameworks/{framework.pk}/")
    adoption_card = page.locator(f"#phase-{adoption.pk}")
    expect(adoption_card).to_contain_text("0 accounts")
    expect(adoption_card).to_contain_text("at least 90 days since the customer")
    page.get_by_role("link", name="Edit as YAML").click()

    # A mistake first: the check names the line and saves nothing.
    editor = page.locator("textarea")
    text = editor.input_value()
    editor.fill(text.replace("days_since_start: {at_least: 90}", "days_since_start: {at_least: ninety}"))
    page.get_by_role("button", name="Check", exact=True).click()
    problems = page.locator("#framework-problems")
    expect(problems).to_contain_text("line 37")
    assert framework.phases.get(key="adoption").entry_rules[0] == {"days_since_start": {"at_least": 90}}

    # The rule the leader meant: adoption from day 60.
    editor = page.locator("textarea")
    editor.fill(text.replace("days_since_start: {at_least: 90}", "days_since_start: {at_least: 60}"))
    page.get_by_role("button", name="Check", exact=True).click()
    expect(page.locator("#framework-ok")).to_be_visible()
    page.get_by_role("button", name="Check and save").click()

    # Back on the framework page: the account 70 days in moved to Adoption, the one 40 days in did not.
    expect(page.locator(f"#phase-{adoption.pk}")).to_contain_text("at least 60 days since the customer")
    expect(page.locator(f"#phase-{adoption.pk}")).to_contain_text("1 account")
    assert AccountPlacement.objects.get(account_id=moving).phase == adoption
    assert AccountPlacement.objects.get(account_id=staying).phase.key == "first-use"

    page.goto(f"{live_server.url}/accounts/{moving}/")
    expect(page.locator('[data-fact="phase"]')).to_contain_text("Adoption")
    expect(page.locator("#timeline-entries")).to_contain_text("Moved to phase Adoption")
