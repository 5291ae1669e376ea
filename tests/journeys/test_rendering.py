"""Journey messages rendered for one person: their language, plain values only, escaped HTML."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from tests.factories import AccountFactory, ContactFactory, UserFactory
from touchpoint.journeys.definition import parse
from touchpoint.journeys.rendering import language_for, render

pytestmark = pytest.mark.django_db


def definition(messages: dict) -> dict:
    return {
        "key": "welcome",
        "name": "Welcome",
        "subject": "contact",
        "entry": {"trigger": "manual"},
        "messages": messages,
        "steps": [{"id": "mail", "type": "email", "message": "hello"}],
    }


HELLO = {
    "hello": {
        "en": {
            "subject": "Welcome, {{ contact.first_name }}",
            "body": "Hello {{ contact.name }} at {{ account.name }}.",
        },
        "ja": {
            "subject": "ようこそ {{ contact.name }} 様",
            "body": "{{ account.name }} の {{ contact.name }} 様",
        },
    }
}


class Person:
    def __init__(self, language: str = "") -> None:
        self.language = language


def test_language_is_the_contacts_then_the_accounts_then_english():
    available = ["en", "ja"]
    assert language_for(contact=Person("ja"), account=Person("ru"), available=available) == "ja"
    assert language_for(contact=Person(""), account=Person("ja"), available=available) == "ja"
    assert language_for(contact=Person("ru"), account=Person("ja"), available=available) == "ja"
    assert language_for(contact=Person("th"), account=Person("ru"), available=available) == "en"
    assert language_for(contact=None, account=None, available=available) == "en"


def test_renders_in_the_contacts_language_with_their_names():
    account = AccountFactory(name="Acme", language="en")
    contact = ContactFactory(account=account, name="Hanako Yamada", language="ja")
    rendered = render(parse(definition(HELLO)), "hello", account=account, contact=contact)
    assert rendered.language == "ja"
    assert rendered.subject == "ようこそ Hanako Yamada 様"
    assert "Acme の Hanako Yamada 様" in rendered.text


def test_falls_back_to_the_accounts_language_then_english():
    account = AccountFactory(name="Acme", language="ja")
    contact = ContactFactory(account=account, name="Ann Lee", language="")
    assert render(definition(HELLO), "hello", account=account, contact=contact).language == "ja"
    account.language = "ru"
    rendered = render(definition(HELLO), "hello", account=account, contact=contact)
    assert rendered.language == "en"
    assert rendered.subject == "Welcome, Ann"


def test_a_forced_language_the_message_lacks_falls_back():
    contact = ContactFactory(language="")
    assert render(definition(HELLO), "hello", language="ja", contact=contact).language == "ja"
    assert render(definition(HELLO), "hello", language="th", contact=contact).language == "en"


def test_html_escapes_values_and_text_does_not():
    account = AccountFactory(name="Smith & <Sons>")
    contact = ContactFactory(account=account, name="Bob", language="en")
    rendered = render(definition(HELLO), "hello", account=account, contact=contact)
    assert "Smith &amp; &lt;Sons&gt;" in rendered.html
    assert "<Sons>" not in rendered.html
    assert "Smith & <Sons>" in rendered.text


def test_missing_variables_render_empty_and_methods_are_out_of_reach():
    messages = {
        "hello": {
            "en": {
                "subject": "Hi{{ nothing.here }}",
                "body": "[{{ account.delete }}][{{ contact.account.owner.email }}][{{ entry.plan }}]",
            }
        }
    }
    account = AccountFactory(name="Acme")
    contact = ContactFactory(account=account)
    rendered = render(
        definition(messages), "hello", account=account, contact=contact, entry_data={"plan": "pro"}
    )
    assert rendered.subject == "Hi"
    assert rendered.text.strip() == "[][][pro]"
    # The account still exists: the template had no way to call a method on it.
    assert type(account).objects.filter(pk=account.pk).exists()


def test_owner_and_renewal_date_are_available():
    owner = UserFactory(full_name="Carla CSM", email="carla@vendor.example")
    account = AccountFactory(name="Acme", owner=owner)
    messages = {
        "hello": {
            "en": {
                "subject": "Renewal",
                "body": "{{ owner.name }} <{{ owner.email }}> · {{ renewal_date|date:'Y-m-d' }}",
            }
        }
    }
    rendered = render(
        definition(messages), "hello", account=account, entry_data={"renewal_date": "2027-03-01"}
    )
    assert "Carla CSM <carla@vendor.example> · 2027-03-01" in rendered.text


def test_renewal_date_comes_from_the_live_subscription_without_entry_data():
    from tests.factories import SubscriptionFactory

    account = AccountFactory(name="Acme")
    SubscriptionFactory(account=account, renewal_date=date(2027, 5, 4))
    messages = {"hello": {"en": {"subject": "s", "body": "{{ account.renewal_date|date:'Y-m-d' }}"}}}
    assert render(definition(messages), "hello", account=account).text.strip() == "2027-05-04"


def test_a_broken_template_names_the_message_and_language():
    messages = {
        "hello": {
            "en": {"subject": "ok", "body": "fine"},
            "ja": {"subject": "ok", "body": "{% if contact.name %}never closed"},
        }
    }
    contact = ContactFactory(language="ja")
    with pytest.raises(ValidationError) as caught:
        render(definition(messages), "hello", contact=contact)
    text = " ".join(caught.value.messages)
    assert "hello" in text and "ja" in text


def test_include_and_unknown_messages_are_refused_clearly():
    messages = {"hello": {"en": {"subject": "ok", "body": "{% include 'base.html' %}"}}}
    with pytest.raises(ValidationError, match="hello"):
        render(definition(messages), "hello")
    with pytest.raises(ValidationError, match="nope"):
        render(definition(HELLO), "nope")


def test_html_turns_lines_into_paragraphs_and_urls_into_links():
    messages = {
        "hello": {"en": {"subject": "s", "body": "First line.\n\nSee https://example.com/docs please."}}
    }
    rendered = render(definition(messages), "hello")
    assert rendered.html.count("<p>") == 2
    assert '<a href="https://example.com/docs"' in rendered.html
    assert "<p>" not in rendered.text
