"""Turning on two-factor sign-in and signing in with a code, in English and Japanese."""

import time
from base64 import b32decode

import pytest
from django_otp.oath import TOTP
from playwright.sync_api import expect

from tests.factories import UserFactory
from touchpoint.users.roles import Role

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "correct horse battery staple"


def code_for(secret: str, offset: int = 0) -> str:
    totp = TOTP(b32decode(secret))
    totp.time = time.time() + offset
    return f"{totp.token():06d}"


@pytest.mark.parametrize("language", ["en", "ja"])
def test_turn_on_two_factor_and_sign_in_with_a_code(page, live_server, language):
    user = UserFactory(role=Role.CSM, email="csm@example.com")
    user.set_password(PASSWORD)
    user.save()
    if language == "ja":
        page.context.add_cookies([{"name": "django_language", "value": "ja", "url": live_server.url}])

    def sign_in() -> None:
        page.goto(f"{live_server.url}/login/")
        page.locator("#id_username").fill(user.email)
        page.locator("#id_password").fill(PASSWORD)
        page.locator("form button[type=submit]").click()

    sign_in()
    page.wait_for_url(f"{live_server.url}/my-day/**")
    page.goto(f"{live_server.url}/my-settings/")
    page.locator("#two-factor-on-link").click()
    expect(page.locator(".qr svg")).to_be_visible()
    secret = page.locator("#totp-secret").inner_text()
    page.locator("#id_code").fill(code_for(secret))
    page.locator("form button.primary").click()
    expect(page.locator("#backup-codes li")).to_have_count(8)
    if language == "ja":
        expect(page.locator("html")).to_have_attribute("lang", "ja")
        expect(page.locator("#two-factor-on")).not_to_contain_text("Two-factor sign-in is on")

    page.context.clear_cookies()
    if language == "ja":
        page.context.add_cookies([{"name": "django_language", "value": "ja", "url": live_server.url}])
    sign_in()
    page.wait_for_url(f"{live_server.url}/two-factor/verify/**")
    page.goto(f"{live_server.url}/my-settings/")  # every page waits for the code
    page.wait_for_url(f"{live_server.url}/two-factor/verify/**")
    page.locator("#id_code").fill(code_for(secret, 30))  # the next step: the set-up used this one
    page.locator("form button.primary").click()
    page.wait_for_url(f"{live_server.url}/my-settings/**")
    expect(page.locator("#two-factor")).to_be_visible()
