"""In a real browser, in English and Russian: an admin invites a CSM, the link from the email sets a
password and signs the CSM in, the admin changes their role and deactivates them, and the CSM can no
longer sign in. Screenshots at 1440 and 390 px go to var/screenshots/ (SCREENSHOTS=0 skips them)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from django.core import mail
from django.utils import translation
from django.utils.translation import gettext, pgettext
from playwright.sync_api import expect

from tests.factories import UserFactory
from touchpoint.users.models import User
from touchpoint.users.roles import Role

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
PASSWORD = "a long enough passphrase"


def shoot(page, name: str) -> None:
    if os.environ.get("SCREENSHOTS", "1") == "0":
        return
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1440, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
        if width == 390:  # nothing wider than the screen at phone width
            assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1, name
    page.set_viewport_size({"width": 1440, "height": 900})


@pytest.mark.parametrize("language", ["en", "ru"])
def test_invite_sign_up_change_role_deactivate(page, browser, live_server, log_in, language):
    def t(text: str) -> str:
        with translation.override(language):
            return gettext(text)

    admin = UserFactory(role=Role.ADMIN, email="admin@example.com")
    log_in(page, admin)
    cookie = [{"name": "django_language", "value": language, "url": live_server.url}]
    page.context.add_cookies(cookie)

    page.goto(f"{live_server.url}/people/")
    shoot(page, f"people-list-{language}")
    page.get_by_role("link", name=t("Invite someone")).click()
    with translation.override(language):
        name_label = pgettext("of a person", "Name")
    page.get_by_label(name_label).fill("Nia New")
    page.get_by_label(t("Email address")).fill("nia@example.com")
    page.get_by_label(t("Role")).select_option("csm")
    page.get_by_label(t("Language of the invitation")).select_option(language)
    shoot(page, f"people-invite-{language}")
    page.get_by_role("button", name=t("Send invitation")).click()
    expect(page.locator("h1")).to_have_text("Nia New")
    expect(page.locator(".messages")).to_contain_text("nia@example.com")

    (message,) = mail.outbox
    with translation.override(language):
        assert message.subject == gettext("You are invited to Touchpoint")
    path = re.search(r"https?://[^/\s]+(/welcome/[\w-]+/)", message.body).group(1)

    newcomer = browser.new_context(locale="en-US", timezone_id="UTC")
    newcomer.add_cookies(cookie)
    csm_page = newcomer.new_page()
    csm_page.goto(f"{live_server.url}{path}")
    shoot(csm_page, f"people-welcome-{language}")
    csm_page.get_by_label(t("New password"), exact=True).fill(PASSWORD)
    csm_page.get_by_label(t("New password again")).fill(PASSWORD)
    csm_page.get_by_role("button", name=t("Set password and log in")).click()
    csm_page.wait_for_url(f"{live_server.url}/my-day/**")
    expect(csm_page.locator(".whoami")).to_contain_text("Nia New")

    # The same link again: it says it was used.
    used = newcomer.new_page()
    used.goto(f"{live_server.url}{path}")
    expect(used.locator("#link-problem")).to_have_text(
        t("This link has already been used. Log in with your password, or ask an admin for a new link.")
    )
    used.close()

    page.reload()
    expect(page.locator("#person-role")).to_have_text(t("Customer success manager"))
    page.locator("#role-form select").select_option("viewer")
    page.get_by_role("button", name=t("Change role")).click()
    expect(page.locator("#person-role")).to_have_text(t("Viewer"))
    page.get_by_role("button", name=t("Deactivate"), exact=True).click()
    expect(page.get_by_role("button", name=t("Reactivate"))).to_be_visible()
    shoot(page, f"people-person-{language}")
    assert not User.objects.get(email="nia@example.com").is_active

    # The CSM's open page no longer answers as them, and their password no longer signs in.
    csm_page.goto(f"{live_server.url}/my-settings/")
    csm_page.wait_for_url(re.compile(r".*/login/.*"))
    csm_page.locator("#id_username").fill("nia@example.com")
    csm_page.locator("#id_password").fill(PASSWORD)
    csm_page.locator("button[type=submit].primary").click()
    expect(csm_page.locator(".form-error")).to_be_visible()
    assert "/login/" in csm_page.url
    newcomer.close()

    page.goto(f"{live_server.url}/people/?status=deactivated")
    expect(page.locator("#people-table")).to_contain_text("nia@example.com")
