from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.factories import AccountFactory, SegmentFactory, UserFactory
from touchpoint.revenue import services
from touchpoint.revenue.models import ChurnReason
from touchpoint.users.roles import Role

# Transactional tests empty every table after themselves, the reasons the migrations add included:
# each test makes the ones it needs.
pytestmark = pytest.mark.django_db(transaction=True)


def test_a_leader_reads_revenue_filters_by_segment_and_downloads_a_chart_as_csv(page, live_server, log_in):
    leader = UserFactory(role=Role.CS_LEADER, email="leader@example.com")
    enterprise, smb = SegmentFactory(name="Enterprise"), SegmentFactory(name="SMB")
    kept = services.create_subscription(
        confirm=True,
        account=AccountFactory(segment=enterprise),
        product="Cloud",
        mrr=Decimal("1000"),
        started_on=date(2026, 1, 10),
    )
    lost = services.create_subscription(
        confirm=True,
        account=AccountFactory(segment=smb),
        product="Cloud",
        mrr=Decimal("400"),
        started_on=date(2026, 1, 12),
    )
    services.change_subscription(subscription=kept, mrr=Decimal("1200"), occurred_on=date(2026, 2, 3))
    services.cancel_subscription(
        subscription=lost,
        canceled_on=date(2026, 2, 20),
        churn_reason=ChurnReason.objects.get_or_create(name="Switched to a competitor")[0],
    )
    log_in(page, leader)
    page.hover("[data-nav-group=revenue] .navgroup-label")  # the menu's drop-down
    page.get_by_role("link", name="Revenue").click()
    page.get_by_label("From month").fill("2026-01")
    page.get_by_label("To month").fill("2026-03")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#kpi-mrr")).to_have_text("1,200")
    expect(page.locator("#reasons")).to_contain_text("Switched to a competitor")
    expect(page.locator("#periods")).to_contain_text("Feb 2026")  # the period as the reader writes a month

    page.get_by_label("Segment").select_option(label="SMB")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#kpi-mrr")).to_have_text("0")

    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").first.click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert text.splitlines()[0].startswith("Period,MRR at the end")
    assert "2026-01,400.00" in text
