"""The built-in fields read each value as of the moment asked, from history where the data keeps it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.factories import AccountFactory, ContactFactory, FrameworkFactory, PhaseFactory
from touchpoint.accounts.models import AccountTag, TimelineEntry
from touchpoint.health.models import HealthScore
from touchpoint.journeys.conditions import value_of
from touchpoint.journeys.fields import field_named, known, registered_fields
from touchpoint.journeys.interpreter import Subject
from touchpoint.revenue.services import cancel_subscription, change_subscription, create_subscription
from touchpoint.success.services import place_account

pytestmark = pytest.mark.django_db


def at(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=12)


def test_the_built_in_fields_are_registered():
    names = {spec.name for spec in registered_fields()}
    assert {
        "account.segment",
        "account.engagement_model",
        "account.phase",
        "account.health_grade",
        "account.health_score",
        "account.mrr",
        "account.days_to_renewal",
        "account.days_since_created",
        "account.tags",
        "account.language",
        "account.status",
        "contact.role",
        "contact.language",
        "contact.email_domain",
    } <= names
    assert field_named("account.engagement_model").choices == ("high_touch", "low_touch", "hybrid")
    assert known("account.attributes.plan") and known("entry.properties.plan")
    assert not known("account.nope")


def test_health_is_read_as_of_the_day():
    account = AccountFactory()
    for day, score, grade in [(date(2026, 3, 1), 80, "green"), (date(2026, 3, 10), 30, "red")]:
        HealthScore.objects.create(account=account, day=day, version_id=1, score=score, grade=grade)
    subject = Subject(account.pk)
    assert value_of("account.health_grade", subject, at(date(2026, 2, 28)), {}) is None
    assert value_of("account.health_grade", subject, at(date(2026, 3, 5)), {}) == "green"
    assert value_of("account.health_score", subject, at(date(2026, 3, 5)), {}) == 80
    assert value_of("account.health_grade", subject, at(date(2026, 4, 1)), {}) == "red"


def test_mrr_renewal_and_status_are_read_as_of_the_day():
    account = AccountFactory(created_at=at(date(2025, 1, 1)))
    subscription = create_subscription(
        account=account,
        product="Cloud",
        mrr=Decimal("1000"),
        currency="USD",
        started_on=date(2025, 1, 10),
        renewal_date=date(2026, 1, 10),
    )
    change_subscription(subscription=subscription, mrr=Decimal("1500"), occurred_on=date(2025, 6, 1))
    subject = Subject(account.pk)
    assert value_of("account.status", subject, at(date(2025, 1, 5)), {}) == "prospect"
    assert value_of("account.mrr", subject, at(date(2025, 1, 5)), {}) == 0
    assert value_of("account.mrr", subject, at(date(2025, 3, 1)), {}) == 1000
    assert value_of("account.mrr", subject, at(date(2025, 7, 1)), {}) == 1500
    assert value_of("account.days_to_renewal", subject, at(date(2025, 12, 31)), {}) == 10
    assert value_of("account.renewal_date", subject, at(date(2025, 12, 31)), {}) == date(2026, 1, 10)
    assert value_of("account.days_since_created", subject, at(date(2025, 1, 31)), {}) == 30
    cancel_subscription(subscription=subscription, canceled_on=date(2025, 9, 1))
    assert value_of("account.status", subject, at(date(2025, 8, 1)), {}) == "customer"
    assert value_of("account.status", subject, at(date(2025, 10, 1)), {}) == "churned"
    assert value_of("account.mrr", subject, at(date(2025, 10, 1)), {}) == 0
    assert value_of("account.days_to_renewal", subject, at(date(2025, 10, 1)), {}) is None


def test_phase_is_read_from_its_history():
    account = AccountFactory()
    framework = FrameworkFactory()
    onboarding = PhaseFactory(framework=framework, name="Onboarding", position=1)
    adoption = PhaseFactory(framework=framework, name="Adoption", position=2)
    place_account(account=account, actor=None, phase=onboarding)
    place_account(account=account, actor=None, phase=adoption)
    entries = list(TimelineEntry.objects.filter(account=account, kind="phase_changed").order_by("id"))
    # Put the history in the past: onboarding from 1 March, adoption from 1 May.
    TimelineEntry.objects.filter(pk=entries[0].pk).update(occurred_at=at(date(2026, 3, 1)))
    TimelineEntry.objects.filter(pk=entries[1].pk).update(occurred_at=at(date(2026, 5, 1)))
    account.placement.__class__.objects.filter(account=account).update(entered_at=at(date(2026, 5, 1)))
    subject = Subject(account.pk)
    assert value_of("account.phase", subject, at(date(2026, 2, 1)), {}) is None
    assert value_of("account.phase", subject, at(date(2026, 4, 1)), {}) == "Onboarding"
    assert value_of("account.phase", subject, at(date(2026, 6, 1)), {}) == "Adoption"


def test_account_and_contact_facts():
    account = AccountFactory(engagement_model="high", language="ja")
    AccountTag.objects.create(account=account, name="beta")
    AccountTag.objects.create(account=account, name="apac")
    contact = ContactFactory(
        account=account, email="ann@Example.COM", language="ru", roles=["champion", "user"]
    )
    now = timezone.now()
    assert value_of("account.engagement_model", Subject(account.pk), now, {}) == "high_touch"
    assert value_of("account.segment", Subject(account.pk), now, {}) == account.segment.name
    assert value_of("account.language", Subject(account.pk), now, {}) == "ja"
    assert value_of("account.tags", Subject(account.pk), now, {}) == ["apac", "beta"]
    person = Subject(account.pk, contact.pk)
    assert value_of("contact.role", person, now, {}) == ["champion", "user"]
    assert value_of("contact.language", person, now, {}) == "ru"
    assert value_of("contact.email_domain", person, now, {}) == "example.com"
    # contact fields of an account subject are missing, not an error
    assert value_of("contact.role", Subject(account.pk), now, {}) is None
