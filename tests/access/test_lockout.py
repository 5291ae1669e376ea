"""Sign-in lockout (django-axes): 30 wrong passwords, then the right one is refused, per account and per address."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import UserFactory
from touchpoint.users.access import cool_off_for
from touchpoint.users.models import AuditLogEntry
from touchpoint.users.roles import Role
from touchpoint.users.services import create_api_key

pytestmark = pytest.mark.django_db
PASSWORD = "a long enough passphrase"


@pytest.fixture
def person(db):
    user = UserFactory(role=Role.CSM, email="csm@example.com")
    user.set_password(PASSWORD)
    user.save()
    return user


def sign_in(email: str, password: str, ip: str = "10.0.0.1", client: Client | None = None):
    client = client or Client()
    response = client.post(reverse("login"), {"username": email, "password": password}, REMOTE_ADDR=ip)
    return client, response


def signed_in(response) -> bool:
    return response.status_code == 302 and response.url == reverse("home")


def test_thirty_wrong_passwords_then_the_right_one_is_refused(person):
    for _ in range(30):
        _client, response = sign_in(person.email, "wrong password")
        assert not signed_in(response)
    client, response = sign_in(person.email, PASSWORD)
    assert response.status_code == 429
    text = response.content.decode()
    assert "Sign-in is locked" in text and "minutes" in text
    assert "_auth_user_id" not in client.session


def test_the_message_is_translated(person):
    for _ in range(5):
        sign_in(person.email, "wrong")
    client = Client(HTTP_ACCEPT_LANGUAGE="ja")
    _client, response = sign_in(person.email, PASSWORD, client=client)
    assert response.status_code == 429
    assert "Sign-in is locked" not in response.content.decode()


def test_wrong_passwords_below_the_limit_do_not_lock(person):
    for _ in range(4):
        sign_in(person.email, "wrong")
    _client, response = sign_in(person.email, PASSWORD)
    assert signed_in(response)


def test_the_cool_off_grows_with_failures(settings):
    settings.AXES_FAILURE_LIMIT = 5
    settings.TOUCHPOINT_LOGIN_COOLOFF_MINUTES = 5
    assert cool_off_for(5) == timedelta(minutes=5)
    assert cool_off_for(10) == timedelta(minutes=10)
    assert cool_off_for(30) == timedelta(minutes=160)
    assert cool_off_for(10_000) == timedelta(days=1)


def test_after_the_cool_off_the_right_password_works(person):
    for _ in range(5):
        sign_in(person.email, "wrong")
    assert sign_in(person.email, PASSWORD)[1].status_code == 429
    # Time passes: every stored failure is older than its cool-off.
    past = timezone.now() - timedelta(days=2)
    AccessAttempt.objects.update(attempt_time=past)
    for attempt in AccessAttempt.objects.all():
        attempt.expiration.expires_at = past
        attempt.expiration.save()
    assert signed_in(sign_in(person.email, PASSWORD)[1])


def test_the_lock_is_per_account_and_per_address(person):
    other = UserFactory(role=Role.CSM, email="other@example.com")
    other.set_password(PASSWORD)
    other.save()
    for _ in range(5):
        sign_in(person.email, "wrong", ip="10.0.0.1")
    # The account is locked from any address…
    assert sign_in(person.email, PASSWORD, ip="10.0.0.2")[1].status_code == 429
    # …and the address for any account…
    assert sign_in(other.email, PASSWORD, ip="10.0.0.1")[1].status_code == 429
    # …but another account from another address signs in.
    assert signed_in(sign_in(other.email, PASSWORD, ip="10.0.0.3")[1])


def test_guessing_many_accounts_from_one_address_locks_the_address(person):
    for n in range(5):
        sign_in(f"nobody{n}@example.com", "wrong", ip="10.9.9.9")
    assert sign_in(person.email, PASSWORD, ip="10.9.9.9")[1].status_code == 429
    assert signed_in(sign_in(person.email, PASSWORD, ip="10.9.9.8")[1])


def test_x_forwarded_for_is_ignored_unless_proxies_are_trusted(person, settings):
    for n in range(5):
        Client().post(
            reverse("login"),
            {"username": person.email, "password": "wrong"},
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}",
        )
    assert AccessAttempt.objects.filter(ip_address="10.0.0.1").count() == 1
    settings.TOUCHPOINT_TRUSTED_PROXIES = 1
    Client().post(
        reverse("login"),
        {"username": "x@example.com", "password": "wrong"},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="203.0.113.7",
    )
    assert AccessAttempt.objects.filter(ip_address="203.0.113.7").exists()


def test_an_admin_unlocks_in_the_app_and_it_is_audited(person, admin_user):
    for _ in range(5):
        sign_in(person.email, "wrong")
    assert sign_in(person.email, PASSWORD)[1].status_code == 429
    admin = Client()
    admin.force_login(admin_user)
    page = admin.get(reverse("locked-sign-ins"))
    assert page.status_code == 200 and person.email in page.content.decode()
    response = admin.post(reverse("locked-sign-ins"), {"username": person.email})
    assert response.status_code == 302
    assert AuditLogEntry.objects.filter(action="signin.unlock", actor=admin_user).exists()
    assert signed_in(sign_in(person.email, PASSWORD, ip="10.0.0.7")[1])


def test_only_admins_see_the_locked_sign_ins_page(person):
    client = Client()
    client.force_login(person)
    assert client.get(reverse("locked-sign-ins")).status_code == 403


def test_the_unlock_command(person):
    for _ in range(5):
        sign_in(person.email, "wrong", ip="10.1.1.1")
        sign_in("nobody@example.com", "wrong", ip="10.1.1.1")
    assert sign_in(person.email, PASSWORD, ip="10.1.1.2")[1].status_code == 429
    call_command("unlock", person.email)
    assert signed_in(sign_in(person.email, PASSWORD, ip="10.1.1.2")[1])
    # The address stays locked (its failures for another account) until it is unlocked too.
    assert sign_in(person.email, PASSWORD, ip="10.1.1.1")[1].status_code == 429
    call_command("unlock", "--ip", "10.1.1.1")
    assert signed_in(sign_in(person.email, PASSWORD, ip="10.1.1.1")[1])


def test_api_keys_are_not_affected_by_a_lockout(person):
    raw = create_api_key(user=person)[1]
    for _ in range(30):
        sign_in(person.email, "wrong", ip="127.0.0.1")
    response = Client().get("/api/v1/accounts", HTTP_AUTHORIZATION=f"Bearer {raw}", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200
