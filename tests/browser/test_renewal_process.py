"""A CSM works an overdue renewal in the browser: from home to its page, a mistake shown beside the
field, the outcome recorded, the subscription moved on, each step on the account's timeline."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.factories import AccountFactory, UserFactory
from touchpoint.revenue import services
from touchpoint.revenue.models import OPEN_STAGES, RenewalOpportunity
from touchpoint.users.roles import Role

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("language", ["en", "ja"])
def test_a_csm_records_an_overdue_renewal_and_sees_it_on_the_timeline(page, live_server, log_in, language):
    csm = UserFactory(role=Role.CSM, email="csm@example.com", full_name="Casey Sun")
    today = timezone.localdate()
    account = AccountFactory(name="Orbit Labs", owner=csm)
    subscription = services.create_subscription(
        account=account,
        product="Cloud",
        mrr=Decimal("250"),
        started_on=today - timedelta(days=380),
        renewal_date=today - timedelta(days=6),
        confirm=True,  # a start before the test account was created is meant
    )
    log_in(page, csm)
    if language == "ja":
        page.context.add_cookies([{"name": "django_language", "value": "ja", "url": live_server.url}])
    page.goto(f"{live_server.url}/my-day/")
    overdue = page.locator('[data-section="renewals-overdue"]')
    expect(overdue).to_contain_text("Orbit Labs")
    overdue.get_by_role("link", name="Orbit Labs").click()

    stage = page.locator("#opportunity-update")
    stage.locator("#id_update-stage").select_option("commit")
    stage.locator("#id_update-expected_arr").fill("1000000000000")  # a trillion: refused beside the field
    stage.locator("button[type=submit]").click()
    expect(page.locator("#opportunity-update .field-error")).to_be_visible()
    page.locator("#id_update-expected_arr").fill("3600")
    page.locator("#opportunity-update button[type=submit]").click()
    expect(page.locator("#opportunity-stage")).to_have_attribute("class", "badge stage-commit")

    outcome = page.locator("#opportunity-outcome")
    outcome.locator("#id_outcome-outcome").select_option("renewed")
    outcome.locator("#id_outcome-new_mrr").fill("300")
    outcome.locator("button[type=submit]").click()
    expect(page.locator("#opportunity-stage")).to_have_attribute("class", "badge stage-renewed")
    subscription.refresh_from_db()
    assert subscription.mrr == Decimal("300.00")
    assert subscription.renewal_date > today  # one twelve-month term after the date that had passed
    assert RenewalOpportunity.objects.get(subscription=subscription, stage__in=OPEN_STAGES).renewal_date == (
        subscription.renewal_date
    )

    page.goto(f"{live_server.url}/renewals/")
    expect(page.locator("#overdue")).not_to_contain_text("Orbit Labs")
    page.goto(f"{live_server.url}/accounts/{account.pk}/")
    expect(page.locator("#renewal-panel")).to_contain_text("Cloud")
    expect(page.locator(".timeline-entry.kind-renewal_outcome")).to_contain_text("Cloud")
    expect(page.locator(".timeline-entry.kind-renewal_stage")).to_contain_text("→")
    if language == "en":
        expect(page.locator(".timeline-entry.kind-renewal_outcome")).to_contain_text("Renewed: Cloud")
        expect(page.locator(".timeline-entry.kind-renewal_stage")).to_contain_text("Not started → Commit")
