"""The lifecycle phase in the account header: shown and changed in place, as the success app plugs it in."""

import pytest
from playwright.sync_api import expect

from tests.factories import AccountFactory, PhaseFactory, UserFactory
from touchpoint.success.models import AccountPlacement
from touchpoint.users.roles import Role

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_csm_moves_an_account_to_another_phase_without_a_reload(page, live_server, log_in):
    csm = UserFactory(role=Role.CSM, email="mika@example.com", full_name="Mika Sato")
    onboarding = PhaseFactory(name="Onboarding", position=0)
    PhaseFactory(name="Adoption", position=2)
    account = AccountFactory(name="Phase Corp", owner=csm, phase=onboarding)
    log_in(page, csm)
    page.goto(f"{live_server.url}/accounts/{account.pk}/")
    fact = page.locator('[data-fact="phase"]')
    expect(fact).to_contain_text("Onboarding")
    # The panels other apps registered load after the page.
    expect(page.locator("#health-panel")).to_be_visible()
    expect(page.locator("#usage-panel")).to_be_visible()
    page.evaluate("window.__stillHere = true")
    fact.get_by_text("Change phase").click()
    fact.get_by_label("Lifecycle phase").select_option(label="Standard › Adoption")
    fact.get_by_role("button", name="Save").click()
    expect(fact).to_contain_text("Adoption (Standard)")
    expect(page.locator("#timeline-entries .timeline-entry").first).to_contain_text("Moved to phase Adoption")
    assert page.evaluate("window.__stillHere") is True
    assert AccountPlacement.objects.get(account=account).phase.name == "Adoption"
