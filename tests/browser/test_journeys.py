"""Journeys in a real browser (issue 13's "done when"): a leader builds a journey from a shipped
template, simulates it on the last 90 days, launches it, adds an account to it, and the account's
champion gets the welcome email at a local SMTP server (aiosmtpd); the enrollment then advances to
its next email. In English and in Japanese. And the journeys pages fit a phone and a desktop."""

from __future__ import annotations

import os
from datetime import time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from tests.factories import AccountFactory, ContactFactory, UserFactory
from tests.journeys.delivery_support import Inbox, free_port, subject_of
from touchpoint.journeys import delivery, engine, rendering
from touchpoint.journeys.definition import parse
from touchpoint.journeys.models import DeliverySettings, Enrollment, EnrollmentStatus, Journey, JourneyStatus
from touchpoint.revenue import services as revenue
from touchpoint.users.roles import Role

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def smtp(settings):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    yield inbox
    controller.stop()


def run_the_worker() -> None:
    """What `touchpoint serve` runs beside the web server (here in the test's own thread, as it sets
    signal handlers), while the live server answers the page's polls: the queued simulation runs."""
    call_command("worker", "--batch", "--no-schedules", verbosity=0)


def _customer(language: str):
    """A new customer (subscription started ten days ago) with a champion who reads `language`."""
    account = AccountFactory(name="Orbit Labs", engagement_model="low", language=language)
    champion = ContactFactory(
        account=account, name="Kim Sato", email="kim@orbit.example", language=language, roles=["champion"]
    )
    revenue.create_subscription(
        account=account,
        product="Cloud",
        mrr=Decimal("250"),
        started_on=timezone.localdate() - timedelta(days=10),
        confirm=True,  # the account row is new today; the customer started ten days ago
    )
    return account, champion


def _expected_subject(enrollment: Enrollment, message: str, account, contact) -> str:
    definition = parse(enrollment.version.definition)
    return rendering.render(definition, message, account=account, contact=contact).subject


@pytest.mark.parametrize("language", ["en", "ja"])
def test_build_simulate_launch_and_deliver_a_journey(page, live_server, log_in, smtp, language):
    leader = UserFactory(role=Role.CS_LEADER, email="lead@example.com", full_name="Lee Lead")
    account, champion = _customer(language)
    rules = DeliverySettings.load()
    # No quiet hours, whatever the hour the test runs at (quiet hours have tests of their own).
    rules.quiet_hours_start = rules.quiet_hours_end = time(0)
    rules.save()

    log_in(page, leader)
    if language == "ja":
        page.context.add_cookies([{"name": "django_language", "value": "ja", "url": live_server.url}])

    # A journey from the shipped welcome series.
    page.goto(f"{live_server.url}/journeys/")
    form = page.locator("#new-journey")
    form.locator("select[name=template]").select_option("welcome-series")
    form.locator("input[name=name]").fill(f"Welcome {language}")
    form.locator("input[name=key]").fill(f"welcome-{language}")
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(f"{live_server.url}/journeys/welcome-{language}/")
    arms = page.locator("#step-subject-line-test > .branches > .branch")
    expect(arms).to_have_count(2)
    first, second = arms.nth(0).bounding_box(), arms.nth(1).bounding_box()
    assert first and second and first["y"] == second["y"] and first["x"] < second["x"]  # side by side
    expect(page.locator("#step-welcome-a")).to_be_visible()
    if language == "ja":
        expect(page.locator("html")).to_have_attribute("lang", "ja")
        expect(page.locator(".topbar-end .link-button")).not_to_have_text("Log out")

    # Simulate it on the last 90 days: the customer who started ten days ago would have entered.
    # It runs in the background: the page waits for a worker, then polls until the result is there.
    page.locator("#simulation button[type=submit]").click()
    expect(page.locator('#simulation-run[data-status="queued"]')).to_be_visible()
    run_the_worker()
    summary = page.locator("#simulation-summary")
    expect(summary.locator('[data-number="entered"]')).to_have_text("1")
    expect(summary.locator(".sim-messages li").first).to_be_visible()
    assert not Enrollment.objects.exists()  # a simulation enrolls nobody

    # Launch it (the button asks first).
    page.locator("#launch summary").click()
    page.locator("#launch button[type=submit]").click()
    expect(page.locator(".journey-head .journey-status")).to_have_class("badge journey-status status-live")
    journey = Journey.objects.get(key=f"welcome-{language}")
    assert journey.status == JourneyStatus.LIVE

    # Add the account by hand from its page.
    page.goto(f"{live_server.url}/accounts/{account.pk}/")
    panel = page.locator("#journeys-panel")
    panel.locator("select[name=journey]").select_option(label=f"Welcome {language}")
    panel.locator(".add-to-journey button[type=submit]").click()
    expect(page.locator("#journeys-panel .enrollment")).to_have_count(1)
    expect(page.locator("#journeys-panel .enrollment")).to_contain_text("wait-three-days")
    enrollment = Enrollment.objects.get(journey=journey)
    message = "welcome_a" if enrollment.choices["subject-line-test"] == "A" else "welcome_b"

    # The sender hands the welcome email to the SMTP server, in the champion's language.
    assert delivery.send_due() == 1
    assert len(smtp.messages) == 1
    welcome = smtp.messages[0]
    assert welcome["To"] == "kim@orbit.example"
    assert subject_of(welcome) == _expected_subject(enrollment, message, account, champion)
    if language == "ja":
        assert "様" in subject_of(welcome)

    # Three days later the enrollment moves on: the first-steps email, then the journey ends.
    later = timezone.now() + timedelta(days=4)
    assert engine.advance_due(now=later) == 1
    assert delivery.send_due(now=later) == 1
    assert subject_of(smtp.messages[1]) == _expected_subject(enrollment, "first_steps", account, champion)
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.COMPLETED
    page.reload()
    expect(page.locator("#journeys-panel .enrollment")).to_have_count(0)
    expect(page.locator("#journeys-panel")).to_contain_text(f"Welcome {language}")

    # The stats count it: one entered, two emails sent.
    page.goto(f"{live_server.url}/journeys/welcome-{language}/stats/")
    expect(page.locator('#journey-totals [data-number="entered"]')).to_have_text("1")
    expect(page.locator('#journey-totals [data-number="sent"]')).to_have_text("2")


SCREENS = os.environ.get("JOURNEY_SCREENSHOTS", "")


@pytest.mark.parametrize("language", ["en", "ja"])
@pytest.mark.parametrize("width", [1440, 390])
def test_journeys_pages_fit_the_screen(page, live_server, log_in, language, width):
    from touchpoint.journeys import library, services

    leader = UserFactory(role=Role.CS_LEADER, email="lead@example.com", full_name="Lee Lead")
    template = library.template("renewal-countdown")
    version = services.save_version(source=template.source)
    services.save_version(source=template.source.replace("days: 7", "days: 8", 1), note="A day more")
    account, _champion = _customer(language)
    log_in(page, leader)
    if language == "ja":
        page.context.add_cookies([{"name": "django_language", "value": "ja", "url": live_server.url}])
    page.set_viewport_size({"width": width, "height": 900})
    key = version.journey.key
    for name, path in (
        ("list", "/journeys/"),
        ("builder", f"/journeys/{key}/"),
        ("stats", f"/journeys/{key}/stats/"),
        ("versions", f"/journeys/{key}/versions/"),
        ("account", f"/accounts/{account.pk}/"),
    ):
        page.goto(f"{live_server.url}{path}")
        if name == "builder":
            page.locator("#simulation button[type=submit]").click()
            expect(page.locator("#simulation-run")).to_be_visible()
            run_the_worker()
            expect(page.locator("#simulation-summary")).to_be_visible()
        if name == "account":
            expect(page.locator("#journeys-panel")).to_be_visible()
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if SCREENS:
            Path(SCREENS).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=f"{SCREENS}/{name}-{width}-{language}.png", full_page=True)
        assert overflow <= 0, f"{path} is {overflow}px wider than a {width}px screen"


def test_a_step_is_edited_in_place_and_saved_as_a_new_version(page, live_server, log_in):
    from touchpoint.journeys import library, services

    leader = UserFactory(role=Role.CS_LEADER, email="lead@example.com", full_name="Lee Lead")
    journey = services.save_version(source=library.template("welcome-series").source).journey
    log_in(page, leader)
    page.goto(f"{live_server.url}/journeys/{journey.key}/")
    card = page.locator("#step-wait-three-days-card")
    card.get_by_role("link", name="Edit").click()
    form = page.locator("#step-wait-three-days-card form.step-form")
    expect(form.locator("input[name=days]")).to_have_value("3")
    form.locator("input[name=days]").fill("5")
    if SCREENS:
        page.screenshot(path=f"{SCREENS}/step-form-1440-en.png", full_page=True)
    form.get_by_role("button", name="Save as a new version").click()
    expect(page.locator("#step-wait-three-days-card")).to_contain_text("Wait 5 days")
    assert journey.versions.count() == 2
    # Each message previews in each language.
    page.locator('#message-welcome_a a[data-language="ja"]').click()
    expect(page.locator("#preview-welcome_a .preview-subject")).to_contain_text(
        "ご利用開始ありがとうございます"
    )
    expect(page.locator("#preview-welcome_a iframe.preview-frame")).to_be_visible()
    # A percentage that breaks the split is refused beside the step, and nothing is saved.
    page.locator("#step-subject-line-test-card").get_by_role("link", name="Edit").click()
    split_form = page.locator("#step-subject-line-test-card form.step-form")
    split_form.locator("input[name=arm_0]").fill("70")
    split_form.get_by_role("button", name="Save as a new version").click()
    expect(page.locator("#step-subject-line-test-card .field-error").first).to_contain_text("100")
    assert journey.versions.count() == 2
