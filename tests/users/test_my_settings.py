"""My settings: a person turns the daily digest off and picks the language of their emails."""

from __future__ import annotations

import pytest
from django.urls import reverse

from touchpoint.users.models import AuditLogEntry, User

pytestmark = pytest.mark.django_db


def test_the_user_menu_links_to_my_settings(client, csm):
    client.force_login(csm)
    assert f'href="{reverse("my-settings")}"' in client.get(reverse("my-day")).content.decode()


def test_a_person_turns_the_digest_off_and_chooses_japanese(client, csm):
    client.force_login(csm)
    page = client.get(reverse("my-settings")).content.decode()
    assert 'name="receive_daily_digest"' in page and "checked" in page  # on by default
    response = client.post(reverse("my-settings"), {"language": "ja"})
    assert response.status_code == 302
    csm = User.objects.get(pk=csm.pk)
    assert csm.receive_daily_digest is False and csm.language == "ja"
    assert AuditLogEntry.objects.filter(action="user.settings", object_id=str(csm.pk)).exists()


def test_an_unknown_language_is_a_form_error(client, csm):
    client.force_login(csm)
    response = client.post(reverse("my-settings"), {"receive_daily_digest": "on", "language": "xx"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert User.objects.get(pk=csm.pk).language == ""


def test_my_settings_change_only_the_person_signed_in(client, csm, leader):
    client.force_login(csm)
    client.post(reverse("my-settings"), {"language": "ru", "receive_daily_digest": "on"})
    assert User.objects.get(pk=leader.pk).language == ""


def test_my_settings_ask_for_a_sign_in(client):
    response = client.get(reverse("my-settings"))
    assert response.status_code == 302 and "login" in response["Location"]
