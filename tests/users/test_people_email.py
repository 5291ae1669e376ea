"""Invitation and reset emails through a real SMTP server (aiosmtpd on 127.0.0.1), and the
`touchpoint users` command."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from aiosmtpd.controller import Controller
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from tests.conftest import logged_in_client
from tests.journeys.delivery_support import Inbox, free_port, part_of, subject_of
from touchpoint.users import people
from touchpoint.users.models import AuditLogEntry, SignInLink, User
from touchpoint.users.roles import Role

pytestmark = pytest.mark.django_db
PASSWORD = "a long enough passphrase"


@pytest.fixture
def smtp(settings):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.TOUCHPOINT_BASE_URL = "https://cs.example.com"
    settings.DEFAULT_FROM_EMAIL = "touchpoint@cs.example.com"
    yield inbox
    controller.stop()


def link_path(message) -> str:
    body = part_of(message, "text/plain")
    return re.search(r"https://cs\.example\.com(/welcome/[\w-]+/)", body).group(1)


def test_an_invitation_arrives_by_smtp_and_its_link_signs_in(smtp, admin_user):
    admin = logged_in_client(admin_user)
    admin.post(reverse("people-invite"), {"full_name": "Nia", "email": "nia@example.com", "role": "csm"})
    (message,) = smtp.messages
    assert message["To"] == "nia@example.com" and message["From"] == "touchpoint@cs.example.com"
    assert subject_of(message) == "You are invited to Touchpoint"
    body = part_of(message, "text/plain")
    assert "Customer success manager" in body and "7 days" in body
    path = link_path(message)
    assert path.removeprefix("/welcome/").rstrip("/") not in str(
        list(AuditLogEntry.objects.values_list("changes"))
    )
    assert SignInLink.objects.get().token_hash != path
    client = Client()
    client.post(path, {"password": PASSWORD, "password_again": PASSWORD})
    assert client.get(reverse("my-settings")).status_code == 200


def test_the_email_is_in_the_chosen_language(smtp, admin_user):
    user, raw = people.invite_user(
        email="ivan@example.com", role=Role.VIEWER, language="ru", actor=admin_user
    )
    people.send_link_email(user=user, raw_token=raw, purpose="invite", sender=admin_user)
    (message,) = smtp.messages
    with translation.override("ru"):
        expected = gettext("You are invited to Touchpoint")
    assert subject_of(message) == expected
    assert f"https://cs.example.com/welcome/{raw}/" in part_of(message, "text/plain")


def test_a_reset_link_arrives_and_works_once(smtp, admin_user, csm):
    logged_in_client(admin_user).post(reverse("person-reset-password", kwargs={"user_id": csm.pk}))
    (message,) = smtp.messages
    assert message["To"] == csm.email and subject_of(message) == "Choose a new Touchpoint password"
    path = link_path(message)
    client = Client()
    assert client.post(path, {"password": PASSWORD, "password_again": PASSWORD}).status_code == 302
    assert Client().login(username=csm.email, password=PASSWORD)
    assert Client().get(path).status_code == 410


def test_the_command_invites_and_lists(smtp):
    out = StringIO()
    call_command("users", "invite", "Ops@Example.com", "--role", "admin", "--name", "Ops Person", stdout=out)
    assert "Invited ops@example.com as Admin." in out.getvalue()
    (message,) = smtp.messages
    assert message["To"] == "ops@example.com"
    user = User.objects.get(email="ops@example.com")
    assert user.role == Role.ADMIN and not user.is_active
    listing = StringIO()
    call_command("users", "list", stdout=listing)
    assert "ops@example.com\tOps Person\tadmin\tinvited\tnever" in listing.getvalue()
    with pytest.raises(CommandError, match="email: A user with this email address already exists"):
        call_command("users", "invite", "ops@example.com", "--role", "csm")
    with pytest.raises(CommandError, match="email: Enter a valid email address"):
        call_command("users", "invite", "not-an-address", "--role", "csm")


def test_the_command_keeps_the_invitation_when_mail_fails(settings, db):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    out, err = StringIO(), StringIO()
    call_command(
        "users", "invite", "x@example.com", "--role", "viewer", "--print-link", stdout=out, stderr=err
    )
    assert "could not be sent" in err.getvalue()
    assert re.search(r"/welcome/[\w-]+/$", out.getvalue().strip())
    assert people.is_invited(User.objects.get(email="x@example.com"))
