"""The optional TOTP second factor: turn on with a code, asked at sign-in, turn off with a code; admins when required."""

from __future__ import annotations

import re
import time
from base64 import b32decode

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import UserFactory
from touchpoint.users.models import AuditLogEntry
from touchpoint.users.roles import Role

pytestmark = pytest.mark.django_db
PASSWORD = "a long enough passphrase"


def code_for(secret: str, offset: int = 0) -> str:
    totp = TOTP(b32decode(secret))
    totp.time = time.time() + offset
    return f"{totp.token():06d}"


def make_user(role=Role.CSM, email="csm@example.com"):
    user = UserFactory(role=role, email=email)
    user.set_password(PASSWORD)
    user.save()
    return user


def sign_in(client: Client, email: str):
    return client.post(reverse("login"), {"username": email, "password": PASSWORD}, REMOTE_ADDR="10.2.0.1")


def turn_on(client: Client) -> str:
    page = client.get(reverse("two-factor-setup"))
    html = page.content.decode()
    assert "<svg" in html
    secret = re.search(r'id="totp-secret">([A-Z2-7=]+)<', html).group(1)
    key = re.search(r'name="key" value="([^"]+)"', html).group(1)
    response = client.post(
        reverse("two-factor-setup"), {"action": "enable", "key": key, "code": code_for(secret)}
    )
    assert response.status_code == 200 and "backup-codes" in response.content.decode()
    return secret


def test_turning_on_needs_a_right_code_and_nothing_is_stored_before(db):
    user = make_user()
    client = Client()
    client.force_login(user)
    page = client.get(reverse("two-factor-setup")).content.decode()
    assert not TOTPDevice.objects.exists()  # showing the QR code stores nothing
    key = re.search(r'name="key" value="([^"]+)"', page).group(1)
    response = client.post(reverse("two-factor-setup"), {"action": "enable", "key": key, "code": "000000"})
    assert response.status_code == 400 and not TOTPDevice.objects.exists()
    forged = client.post(
        reverse("two-factor-setup"), {"action": "enable", "key": "00" * 20, "code": "123456"}
    )
    assert forged.status_code == 400


def test_sign_in_asks_for_the_code_and_every_page_waits_for_it(db):
    user = make_user()
    client = Client()
    client.force_login(user)
    secret = turn_on(client)
    assert AuditLogEntry.objects.filter(action="2fa.enable", actor=user).exists()

    fresh = Client()
    assert sign_in(fresh, user.email).status_code == 302
    home = fresh.get("/")
    assert home.status_code == 302 and home.url.startswith(reverse("two-factor-verify"))
    assert fresh.get(reverse("my-settings")).url.startswith(reverse("two-factor-verify"))
    assert fresh.get("/api/v1/accounts").status_code == 403
    assert fresh.post(reverse("two-factor-verify"), {"code": "000000"}).status_code == 400
    # django-otp throttles the device after a wrong code: wait out its delay, then the right code works.
    TOTPDevice.objects.update(throttling_failure_timestamp=None, throttling_failure_count=0)
    response = fresh.post(
        reverse("two-factor-verify"), {"code": code_for(secret, 30), "next": "/my-settings/"}
    )
    assert response.status_code == 302 and response.url == "/my-settings/"
    assert fresh.get(reverse("my-settings")).status_code == 200


def test_a_backup_code_works_once(db):
    user = make_user()
    client = Client()
    client.force_login(user)
    page = client.get(reverse("two-factor-setup")).content.decode()
    secret = re.search(r'id="totp-secret">([A-Z2-7=]+)<', page).group(1)
    key = re.search(r'name="key" value="([^"]+)"', page).group(1)
    done = client.post(
        reverse("two-factor-setup"), {"action": "enable", "key": key, "code": code_for(secret)}
    )
    backup = re.findall(r"<li><code>([a-z0-9]+)</code></li>", done.content.decode())
    assert len(backup) == 8
    first = Client()
    sign_in(first, user.email)
    assert first.post(reverse("two-factor-verify"), {"code": backup[0]}).status_code == 302
    second = Client()
    sign_in(second, user.email)
    assert second.post(reverse("two-factor-verify"), {"code": backup[0]}).status_code == 400


def test_turning_off_needs_a_code_and_is_audited(db):
    user = make_user()
    client = Client()
    client.force_login(user)
    secret = turn_on(client)
    refused = client.post(reverse("two-factor-setup"), {"action": "disable", "code": "000000"})
    assert refused.status_code == 400 and TOTPDevice.objects.filter(user=user).exists()
    TOTPDevice.objects.update(throttling_failure_timestamp=None, throttling_failure_count=0)
    response = client.post(reverse("two-factor-setup"), {"action": "disable", "code": code_for(secret, 30)})
    assert response.status_code == 302 and not TOTPDevice.objects.filter(user=user).exists()
    assert AuditLogEntry.objects.filter(action="2fa.disable", actor=user).exists()
    fresh = Client()
    sign_in(fresh, user.email)
    assert fresh.get(reverse("my-settings")).status_code == 200


def test_admins_must_set_it_up_first_when_the_setting_says_so(db, settings):
    settings.TOUCHPOINT_REQUIRE_2FA_FOR_ADMINS = True
    admin = make_user(role=Role.ADMIN, email="boss@example.com")
    csm = make_user()
    client = Client()
    sign_in(client, admin.email)
    response = client.get("/")
    assert response.status_code == 302 and response.url.startswith(reverse("two-factor-setup"))
    page = client.get(reverse("two-factor-setup")).content.decode()
    assert "Admins must set up" in page
    secret = re.search(r'id="totp-secret">([A-Z2-7=]+)<', page).group(1)
    key = re.search(r'name="key" value="([^"]+)"', page).group(1)
    client.post(reverse("two-factor-setup"), {"action": "enable", "key": key, "code": code_for(secret)})
    assert client.get(reverse("my-settings")).status_code == 200
    # Other roles are not asked.
    other = Client()
    sign_in(other, csm.email)
    assert other.get(reverse("my-settings")).status_code == 200


def test_without_the_setting_admins_are_not_asked(db):
    admin = make_user(role=Role.ADMIN, email="boss@example.com")
    client = Client()
    sign_in(client, admin.email)
    assert client.get(reverse("my-settings")).status_code == 200


def test_wrong_codes_count_toward_the_lockout_like_wrong_passwords(db, settings):
    """A stolen password does not buy unlimited code guesses: the fifth wrong code locks the account."""
    user = make_user()
    setup = Client()
    setup.force_login(user)
    turn_on(setup)
    guesser = Client()
    assert sign_in(guesser, user.email).status_code == 302
    answers = [
        guesser.post(reverse("two-factor-verify"), {"code": "000000"}, REMOTE_ADDR="10.2.0.1")
        for _try in range(settings.AXES_FAILURE_LIMIT)
    ]
    assert [a.status_code for a in answers[:-1]] == [400] * (settings.AXES_FAILURE_LIMIT - 1)
    assert answers[-1].status_code == 429 and "Sign-in is locked" in answers[-1].content.decode()
    assert guesser.get(reverse("my-settings")).status_code == 302  # signed out
    again = sign_in(Client(), user.email)  # even with the right password, from another address
    assert again.status_code == 429
    assert AuditLogEntry.objects.filter(action="auth.login_failed").count() >= settings.AXES_FAILURE_LIMIT


def test_turning_it_on_signs_out_the_other_sessions(db):
    user = make_user()
    elsewhere = Client()
    elsewhere.force_login(user)
    assert elsewhere.get(reverse("my-settings")).status_code == 200
    here = Client()
    here.force_login(user)
    turn_on(here)
    assert here.get(reverse("my-settings")).status_code == 200  # the session that turned it on stays
    assert elsewhere.get(reverse("my-settings")).status_code == 302  # signed in with a password only
    entry = AuditLogEntry.objects.get(action="2fa.enable")
    assert entry.changes == {"other_sessions_ended": 1}


def test_an_admin_removes_someones_second_factor_in_the_app(db):
    user = make_user()
    own = Client()
    own.force_login(user)
    turn_on(own)
    admin = UserFactory(role=Role.ADMIN, email="admin@example.com")
    client = Client()
    client.force_login(admin)
    page = client.get(reverse("person", args=[user.pk])).content.decode()
    assert 'id="person-two-factor">On<' in page
    response = client.post(reverse("person-reset-two-factor", args=[user.pk]))
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert own.get(reverse("my-settings")).status_code == 302  # their sessions ended
    entry = AuditLogEntry.objects.get(action="2fa.reset")
    assert entry.actor == admin and entry.object_id == str(user.pk)
    page = client.get(reverse("person", args=[user.pk])).content.decode()
    assert 'id="person-two-factor">Off<' in page and "person-reset-two-factor" not in page
    fresh = Client()
    assert sign_in(fresh, user.email).status_code == 302
    assert fresh.get(reverse("my-settings")).status_code == 200  # no code asked any more
