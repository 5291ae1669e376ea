"""In a real browser: the "Yes, this is right" box, voiding a typo, the timeline filter and long notes,
and "Rescore now". Screenshots of each page at 1440 and 390 px, in English and Thai, go to
var/screenshots/ (set SCREENSHOTS=0 to skip them)."""

import os
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.factories import AccountFactory, UserFactory
from touchpoint.accounts import services as accounts
from touchpoint.health.services import ensure_default_scorecard
from touchpoint.revenue import services
from touchpoint.revenue.models import Subscription
from touchpoint.users.roles import Role

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def shoot(page, name: str) -> None:
    if os.environ.get("SCREENSHOTS", "1") == "0":
        return
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1440, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
        # Nothing wider than the screen at phone width.
        if width == 390:
            assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1, name
    page.set_viewport_size({"width": 1440, "height": 900})


def test_confirm_a_big_change_void_it_filter_the_timeline(page, live_server, log_in):
    csm = UserFactory(role=Role.CSM, email="csm@example.com")
    account = AccountFactory(
        name="Typo Industries", owner=csm, created_at=timezone.make_aware(datetime(2020, 1, 1))
    )
    subscription = services.create_subscription(
        account=account, product="Cloud", mrr=Decimal("1000"), started_on=date(2025, 1, 1)
    )
    accounts.log_engagement(account=account, kind="call", subject="Renewal call " + "x" * 120, actor=csm)
    accounts.log_engagement(
        account=account,
        kind="note",
        subject="Quarterly review",
        body="\n".join(f"Point {n}: what the customer said about the rollout" for n in range(1, 16)),
        actor=csm,
    )
    log_in(page, csm)
    page.goto(f"{live_server.url}/accounts/{account.pk}/")
    panel = page.locator("#subscriptions-panel")
    panel.get_by_text("Change", exact=True).first.click()
    mrr = page.locator(f"#id_change-{subscription.pk}-mrr")
    mrr.fill("1000000000")
    panel.get_by_role("button", name="Save change").click()
    expect(panel.locator(".field-warning")).to_contain_text("more than ten times")
    assert Subscription.objects.get().mrr == Decimal("1000")
    shoot(page, "subscription-confirm-en")
    panel.get_by_label("Yes, this is right").check()
    panel.get_by_role("button", name="Save change").click()
    expect(panel.locator(".field-warning")).to_have_count(0)
    expect(panel.locator("#movements")).to_contain_text("999,999,000")
    assert Subscription.objects.get().mrr == Decimal("1000000000")

    panel.locator("#movements").get_by_text("Void", exact=True).first.click()
    panel.get_by_label("Why was it a mistake?").fill("Three zeros too many")
    panel.get_by_role("button", name="Void this change").click()
    expect(panel.locator("#movements")).to_contain_text("Three zeros too many")
    assert Subscription.objects.get().mrr == Decimal("1000")
    shoot(page, "subscription-voided-en")

    timeline = page.locator("#timeline-entries")
    expect(timeline.locator(".entry-long")).to_have_count(1)
    expect(timeline.locator(".entry-full")).to_be_hidden()  # behind "Show all" until opened
    page.reload()
    page.locator("#timeline-kind").select_option("call")
    expect(timeline).not_to_contain_text("Quarterly review")
    expect(timeline).to_contain_text("Renewal call")
    page.locator("#timeline-kind").select_option("")
    expect(timeline).to_contain_text("Quarterly review")
    page.locator(".entry-long summary").click()
    expect(timeline.locator(".entry-full")).to_be_visible()
    expect(timeline.locator(".entry-full")).to_contain_text("Point 15")
    shoot(page, "timeline-en")

    page.locator("#language-select").select_option("th")
    expect(page.locator("html")).to_have_attribute("lang", "th")
    page.goto(f"{live_server.url}/accounts/{account.pk}/")
    expect(page.locator("#subscriptions-panel")).to_be_visible()
    shoot(page, "account-th")


def test_scorecard_save_says_what_changed_and_rescore_now(page, live_server, log_in):
    leader = UserFactory(role=Role.CS_LEADER, email="lead@example.com")
    scorecard = ensure_default_scorecard()
    log_in(page, leader)
    page.goto(f"{live_server.url}/health/scorecards/{scorecard.pk}/")
    page.locator("#id_engagement_recency__weight").fill("1000000000")
    # The browser itself refuses it (max=100); the server would too (tests/health/test_scorecard_editing.py).
    assert page.locator("#id_engagement_recency__weight").evaluate("el => el.validity.rangeOverflow")
    page.locator("#id_engagement_recency__weight").fill("3")
    page.get_by_role("button", name="Save as a new version").click()
    expect(page.locator(".messages")).to_contain_text("Weight of Engagement recency 1 → 3")
    shoot(page, "scorecard-saved-en")
    page.get_by_role("button", name="Rescore now").click()
    expect(page.locator(".messages")).to_contain_text("Rescoring every account")
    page.locator("#language-select").select_option("th")
    expect(page.locator("html")).to_have_attribute("lang", "th")
    page.goto(f"{live_server.url}/health/scorecards/{scorecard.pk}/")
    shoot(page, "scorecard-th")
