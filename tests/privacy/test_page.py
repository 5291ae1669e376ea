"""The Privacy page: admins only, export as a download, erase with a typed confirmation, both audited."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import AccountFactory, ContactFactory, UserFactory
from touchpoint.accounts.models import Contact
from touchpoint.privacy.models import Erasure
from touchpoint.users.models import AuditLogEntry
from touchpoint.users.roles import Role

pytestmark = pytest.mark.django_db

EMAIL = "ada.quux@example.org"


@pytest.fixture
def contact():
    return ContactFactory(account=AccountFactory(), name="Ada Quux", email=EMAIL, phone="+44 20 7946 0991")


def test_only_admins_see_the_page_and_the_menu_entry(admin_user, leader):
    admin, other = Client(), Client()
    admin.force_login(admin_user)
    other.force_login(leader)
    page = admin.get(reverse("privacy"))
    assert page.status_code == 200 and b'href="/privacy/"' in page.content
    assert other.get(reverse("privacy")).status_code == 403
    assert b'href="/privacy/"' not in other.get("/").content


def test_export_downloads_a_zip_and_audits_without_the_email(admin_user, contact):
    client = Client()
    client.force_login(admin_user)
    response = client.post(reverse("privacy-export"), {"export-email": EMAIL.upper()})
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"] and EMAIL not in response["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert "Ada Quux" in archive.read("accounts.json").decode()
    entry = AuditLogEntry.objects.get(action="privacy.export")
    assert entry.actor == admin_user and EMAIL not in str(entry.changes) + entry.object_repr + entry.object_id


def test_export_of_a_bad_email_says_so(admin_user):
    client = Client()
    client.force_login(admin_user)
    response = client.post(reverse("privacy-export"), {"export-email": "nope"})
    assert response.status_code == 400 and b"field-error" in response.content


def test_erase_needs_the_email_typed_again(admin_user, contact):
    client = Client()
    client.force_login(admin_user)
    response = client.post(
        reverse("privacy-erase"), {"erase-email": EMAIL, "erase-confirm": "other@example.org"}
    )
    assert response.status_code == 400 and not Erasure.objects.exists()
    assert Contact.objects.get(pk=contact.pk).name == "Ada Quux"

    response = client.post(reverse("privacy-erase"), {"erase-email": EMAIL, "erase-confirm": EMAIL.upper()})
    assert response.status_code == 302
    erasure = Erasure.objects.get()
    contact.refresh_from_db()
    assert contact.name == erasure.pseudonym and contact.email == "" and contact.phone == ""
    assert erasure.actor == admin_user
    page = client.get(reverse("privacy"))
    assert erasure.pseudonym.encode() in page.content and EMAIL.encode() not in page.content


def test_erase_of_someone_unknown_is_refused(admin_user):
    client = Client()
    client.force_login(admin_user)
    response = client.post(reverse("privacy-erase"), {"erase-email": EMAIL, "erase-confirm": EMAIL})
    assert response.status_code == 400 and not Erasure.objects.exists()


def test_a_leader_cannot_erase(leader, contact):
    client = Client()
    client.force_login(leader)
    response = client.post(reverse("privacy-erase"), {"erase-email": EMAIL, "erase-confirm": EMAIL})
    assert response.status_code == 403 and not Erasure.objects.exists()


def test_a_touchpoint_user_alone_is_not_erased(admin_user):
    UserFactory(role=Role.CSM, email=EMAIL)
    client = Client()
    client.force_login(admin_user)
    response = client.post(reverse("privacy-erase"), {"erase-email": EMAIL, "erase-confirm": EMAIL})
    assert response.status_code == 400 and b"People page" in response.content
    assert not Erasure.objects.exists()
