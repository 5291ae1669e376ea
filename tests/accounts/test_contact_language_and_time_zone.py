"""A contact's language and time zone (what journeys write in, and whose night they keep quiet):
set from the contact form and the API, a time zone that is not an IANA name refused beside the field."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from tests.factories import ContactFactory
from touchpoint.accounts import services
from touchpoint.accounts.models import Contact

pytestmark = pytest.mark.django_db


def test_the_form_saves_language_and_time_zone(csm_client, account):
    response = csm_client.post(
        reverse("contact-create", args=[account.pk]),
        {"name": "Hanako Yamada", "language": "ja", "time_zone": "Asia/Tokyo"},
    )
    assert response.status_code == 302
    contact = Contact.objects.get(name="Hanako Yamada")
    assert (contact.language, contact.time_zone) == ("ja", "Asia/Tokyo")


def test_the_form_shows_a_bad_time_zone_beside_the_field(csm_client, account):
    page = csm_client.get(reverse("contact-create", args=[account.pk])).content.decode()
    assert 'name="language"' in page and 'name="time_zone"' in page
    response = csm_client.post(
        reverse("contact-create", args=[account.pk]), {"name": "Nobody", "time_zone": "Mars/Olympus"}
    )
    assert response.status_code == 422
    assert (
        "Mars/Olympus" in response.content.decode() and "is not a time zone name" in response.content.decode()
    )
    assert not Contact.objects.filter(name="Nobody").exists()


def test_the_api_reads_and_writes_them(api, account):
    created = api.send(
        "post",
        f"/accounts/{account.pk}/contacts",
        {"name": "Ivan Petrov", "language": "ru", "time_zone": "Europe/Moscow"},
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["language"], body["time_zone"]) == ("ru", "Europe/Moscow")
    patched = api.send("patch", f"/contacts/{body['id']}", {"language": "", "time_zone": "America/New_York"})
    assert patched.status_code == 200, patched.content
    assert (patched.json()["language"], patched.json()["time_zone"]) == ("", "America/New_York")


@pytest.mark.parametrize(
    "body",
    [{"time_zone": "Not/AZone"}, {"time_zone": "../../etc/passwd"}, {"language": "xx"}, {"time_zone": None}],
)
def test_the_api_refuses_what_is_not_a_language_or_time_zone(api, account, body):
    contact = ContactFactory(account=account, time_zone="Asia/Tokyo")
    response = api.send("patch", f"/contacts/{contact.pk}", body)
    assert response.status_code in (400, 422), response.content
    field = next(iter(body))
    assert field in response.content.decode()
    contact.refresh_from_db()
    assert contact.time_zone == "Asia/Tokyo"


def test_the_services_clean_them(account, csm):
    contact = services.create_contact(account=account, name="Ann", actor=csm, time_zone=" Asia/Tokyo ")
    assert contact.time_zone == "Asia/Tokyo"
    with pytest.raises(ValidationError) as caught:
        services.update_contact(contact=contact, actor=csm, time_zone="Tokyo")
    assert "time_zone" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        services.update_contact(contact=contact, actor=csm, language="de")
    assert "language" in caught.value.message_dict
