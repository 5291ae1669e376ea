"""Consent to journey emails: the unsubscribe link (page and RFC 8058 one-click), the CSM's switch,
the timeline entry, and delivery respecting it."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from tests.factories import AccountFactory, ContactFactory
from touchpoint.accounts.models import TimelineEntry
from touchpoint.journeys import consent
from touchpoint.journeys.models import ConsentStatus, MessagingConsent

pytestmark = pytest.mark.django_db


def test_the_token_names_the_contact_and_cannot_be_forged():
    ann, bob = ContactFactory(), ContactFactory()
    token = consent.unsubscribe_token(ann)
    assert consent.contact_for_token(token) == ann
    assert consent.contact_for_token(token.replace(str(ann.pk), str(bob.pk), 1)) is None
    assert consent.contact_for_token(token + "x") is None
    assert consent.contact_for_token("garbage") is None


def test_opening_the_link_asks_first_and_changes_nothing():
    contact = ContactFactory(name="Ann Lee")
    response = Client().get(consent.unsubscribe_path(contact))
    assert response.status_code == 200
    assert b"Ann Lee" in response.content and b"unsubscribe-form" in response.content
    assert not MessagingConsent.objects.exists()


def test_confirming_unsubscribes_once_and_notes_it_on_the_timeline():
    contact = ContactFactory(name="Ann Lee")
    client = Client(enforce_csrf_checks=True)
    path = consent.unsubscribe_path(contact)
    for _ in range(2):  # a second click changes nothing
        response = client.post(path)
        assert response.status_code == 200
        assert b"You are unsubscribed" in response.content
    assert consent.is_unsubscribed(contact)
    assert MessagingConsent.objects.get(contact=contact).source == consent.SOURCE_LINK
    entries = TimelineEntry.objects.filter(account=contact.account, kind=consent.TIMELINE_KIND)
    assert entries.count() == 1
    assert entries.get().data == {
        "contact": "Ann Lee",
        "status": "unsubscribed",
        "source": "unsubscribe link",
    }
    # Opening the link again shows the state, no button.
    again = client.get(path)
    assert b"You are unsubscribed" in again.content and b"unsubscribe-form" not in again.content


def test_one_click_unsubscribe_from_the_mail_client():
    contact = ContactFactory()
    response = Client(enforce_csrf_checks=True).post(
        consent.unsubscribe_path(contact), {"List-Unsubscribe": "One-Click"}
    )
    assert response.status_code == 200
    assert MessagingConsent.objects.get(contact=contact).source == consent.SOURCE_ONE_CLICK


def test_a_bad_token_is_a_404_and_other_methods_are_refused():
    assert Client().get("/u/123.notasignature/").status_code == 404
    assert Client().post("/u/nothing/").status_code == 404
    contact = ContactFactory()
    assert Client().put(consent.unsubscribe_path(contact)).status_code == 405
    assert not MessagingConsent.objects.exists()


def test_the_page_speaks_the_persons_language():
    contact = ContactFactory(language="", account=AccountFactory(language="ja"))
    response = Client().get(consent.unsubscribe_path(contact))
    assert b'<html lang="ja">' in response.content
    english = Client().get(consent.unsubscribe_path(ContactFactory(language="")))
    assert b'<html lang="en">' in english.content


def test_a_csm_can_switch_consent_both_ways(csm):
    contact = ContactFactory()
    consent.set_consent(
        contact=contact, status=ConsentStatus.UNSUBSCRIBED, source=consent.SOURCE_CSM, actor=csm
    )
    assert consent.consent_of(contact) == ConsentStatus.UNSUBSCRIBED
    consent.set_consent(
        contact=contact, status=ConsentStatus.SUBSCRIBED, source=consent.SOURCE_CSM, actor=csm
    )
    assert consent.consent_of(contact) == ConsentStatus.SUBSCRIBED
    entries = TimelineEntry.objects.filter(kind=consent.TIMELINE_KIND).order_by("pk")
    assert [e.data["status"] for e in entries] == ["unsubscribed", "subscribed"]
    assert {e.actor for e in entries} == {csm}
    from touchpoint.accounts.timeline import entry_title

    assert "subscribed to journey emails again" in entry_title(entries.last())


def test_an_unknown_status_is_refused():
    with pytest.raises(ValidationError):
        consent.set_consent(contact=ContactFactory(), status="maybe", source="csm")
