"""The People pages: an admin lists, invites, changes roles, deactivates and resets; a person opens
their link, chooses a password and is signed in."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.conftest import logged_in_client
from touchpoint.users import people
from touchpoint.users.models import AuditLogEntry, User
from touchpoint.users.roles import Role

pytestmark = pytest.mark.django_db
PASSWORD = "a long enough passphrase"


def link_in(message) -> str:
    return re.search(r"http://localhost:8000(/welcome/[\w-]+/)", message.body).group(1)


def test_the_list_shows_people_with_role_and_status_and_filters(admin_user, csm, viewer):
    people.invite_user(email="ivy@example.com", role=Role.VIEWER, full_name="Ivy Invited", actor=admin_user)
    client = logged_in_client(admin_user)
    page = client.get(reverse("people")).content.decode()
    for text in (
        "ivy@example.com",
        "Invited",
        csm.email,
        "Customer success manager",
        "Never",
        'data-nav="people"',
    ):
        assert text in page
    filtered = client.get(reverse("people"), {"status": "invited"}).content.decode()
    assert "ivy@example.com" in filtered and csm.email not in filtered
    searched = client.get(reverse("people"), {"q": "CSM@"}).content.decode()
    assert csm.email in searched and "ivy@example.com" not in searched
    by_role = client.get(reverse("people"), {"role": "viewer"}).content.decode()
    assert viewer.email in by_role and "ivy@example.com" in by_role and csm.email not in by_role


def test_the_menu_shows_people_to_admins_only(leader, admin_user):
    assert 'data-nav="people"' not in logged_in_client(leader).get(reverse("my-settings")).content.decode()
    assert 'data-nav="people"' in logged_in_client(admin_user).get(reverse("my-settings")).content.decode()


def test_inviting_emails_a_link_that_signs_the_person_in(admin_user, client):
    admin = logged_in_client(admin_user)
    response = admin.post(
        reverse("people-invite"),
        {"full_name": "Nia New", "email": "nia@example.com", "role": "csm", "language": "en"},
    )
    nia = User.objects.get(email="nia@example.com")
    assert response.status_code == 302 and response["Location"] == reverse(
        "person", kwargs={"user_id": nia.pk}
    )
    (message,) = mail.outbox
    assert message.to == ["nia@example.com"] and "Customer success manager" in message.body
    url = link_in(message)
    page = client.get(url)
    assert page.status_code == 200 and "nia@example.com" in page.content.decode()
    assert page["Cache-Control"].startswith("max-age=0") or "no-cache" in page["Cache-Control"]
    mismatch = client.post(url, {"password": PASSWORD, "password_again": "something else"})
    assert mismatch.status_code == 400 and "The two passwords differ." in mismatch.content.decode()
    weak = client.post(url, {"password": "12345678", "password_again": "12345678"})
    assert weak.status_code == 400 and "too common" in weak.content.decode()
    done = client.post(url, {"password": PASSWORD, "password_again": PASSWORD})
    assert done.status_code == 302
    assert client.get(reverse("my-settings")).status_code == 200  # signed in
    nia.refresh_from_db()
    assert nia.is_active and nia.check_password(PASSWORD)
    again = client.get(url)
    assert again.status_code == 410 and "already been used" in again.content.decode()


def test_an_invitation_to_a_taken_address_is_refused_beside_the_field(admin_user, csm):
    response = logged_in_client(admin_user).post(
        reverse("people-invite"), {"email": "CSM@example.com", "role": "viewer", "language": ""}
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert re.search(r'name="email".*?A user with this email address already exists\.', body, re.S)
    assert not mail.outbox and User.objects.count() == 2


def test_an_unknown_link_says_so(client, db):
    response = client.get(reverse("sign-in-link", kwargs={"token": "nope"}))
    assert response.status_code == 404 and "not valid" in response.content.decode()


def test_the_person_page_changes_role_deactivates_and_resets(admin_user, csm):
    admin = logged_in_client(admin_user)
    victim = logged_in_client(csm)
    url = reverse("person", kwargs={"user_id": csm.pk})
    assert "Deactivate" in admin.get(url).content.decode()
    response = admin.post(reverse("person-role", kwargs={"user_id": csm.pk}), {"role": "viewer"})
    assert response.status_code == 302 and User.objects.get(pk=csm.pk).role == Role.VIEWER
    admin.post(reverse("person-reset-password", kwargs={"user_id": csm.pk}))
    (message,) = mail.outbox
    assert message.to == [csm.email] and "/welcome/" in message.body
    assert PASSWORD not in message.body
    admin.post(reverse("person-deactivate", kwargs={"user_id": csm.pk}))
    assert not User.objects.get(pk=csm.pk).is_active
    assert victim.get(reverse("my-settings")).status_code == 302
    gone = admin.get(link_in(message))  # the reset link died with the deactivation
    assert gone.status_code == 410
    page = admin.get(url).content.decode()
    assert "Reactivate" in page and "Deactivated" in page
    admin.post(reverse("person-reactivate", kwargs={"user_id": csm.pk}))
    assert User.objects.get(pk=csm.pk).is_active
    actions = list(AuditLogEntry.objects.filter(object_id=str(csm.pk)).values_list("action", flat=True))
    assert {"user.role", "user.password_reset", "user.deactivate", "user.reactivate"} <= set(actions)


def test_an_admin_cannot_deactivate_themself_nor_demote_the_last_admin(admin_user):
    admin = logged_in_client(admin_user)
    response = admin.post(reverse("person-deactivate", kwargs={"user_id": admin_user.pk}))
    assert response.status_code == 400 and "You cannot deactivate yourself." in response.content.decode()
    response = admin.post(reverse("person-role", kwargs={"user_id": admin_user.pk}), {"role": "csm"})
    assert response.status_code == 400 and "last active admin" in response.content.decode()
    assert User.objects.get(pk=admin_user.pk).role == Role.ADMIN


def test_a_failing_mail_server_keeps_the_invitation_and_says_so(admin_user, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    admin = logged_in_client(admin_user)
    response = admin.post(
        reverse("people-invite"), {"email": "late@example.com", "role": "viewer", "language": ""}, follow=True
    )
    assert "could not be sent" in response.content.decode()
    late = User.objects.get(email="late@example.com")
    assert people.is_invited(late)


def test_opening_a_link_writes_nothing_until_the_password_is_chosen(admin_user, client):
    _user, raw = people.invite_user(email="nia@example.com", role=Role.CSM, actor=admin_user)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("sign-in-link", kwargs={"token": raw})).status_code == 200
    writes = [
        q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    assert writes == []
    assert people.link_state(raw).usable
