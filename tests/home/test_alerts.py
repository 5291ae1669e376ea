"""Alerts: domain events become alerts for the account's people, once per event and person."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse
from django.utils import translation

from tests.events.test_events import settle
from tests.factories import AccountFactory, ContactFactory, UserFactory
from touchpoint.accounts import services as account_services
from touchpoint.accounts.models import AccountTeamMember, TeamRole
from touchpoint.events.models import ConsumerPosition
from touchpoint.events.services import record_event
from touchpoint.home.alerts import CONSUMER, alert_text, deliver_alerts, registered_alert_kinds
from touchpoint.home.models import Alert
from touchpoint.revenue import services as revenue_services
from touchpoint.scheduler.registry import registered_pollers

pytestmark = pytest.mark.django_db(transaction=True)


def _grade_changed(account, before: str, after: str):
    return record_event(
        kind="health.grade_changed",
        account=account,
        subject=account,
        payload={"day": "2026-12-01", "grade": after, "previous_grade": before, "score": 30.0},
    )


def _deliver() -> int:
    settle()
    return deliver_alerts()


def test_a_fall_of_grade_alerts_the_owner_and_the_team_csms_but_a_rise_does_not(csm):
    account = AccountFactory(owner=csm, name="Acme")
    teammate = UserFactory()
    sponsor = UserFactory()
    AccountTeamMember.objects.create(account=account, user=teammate, role=TeamRole.CSM)
    AccountTeamMember.objects.create(account=account, user=sponsor, role=TeamRole.EXECUTIVE_SPONSOR)
    _grade_changed(account, "green", "red")
    _grade_changed(account, "red", "yellow")  # a rise
    _grade_changed(account, "unknown", "red")  # scored for the first time: no fall
    _deliver()
    alerts = Alert.objects.order_by("recipient_id")
    assert [a.recipient_id for a in alerts] == sorted([csm.pk, teammate.pk])
    alert = alerts[0]
    assert alert.kind == "health.grade_changed" and alert.account_id == account.pk
    assert alert.url == reverse("account-detail", kwargs={"account_id": account.pk})
    with translation.override("en"):
        assert alert_text(alert) == "Health of Acme fell from Green to Red"
    with translation.override("ja"):  # said in the reader's language: the grades are translated
        assert alert_text(alert) == "Acmeのヘルスが緑から赤に低下しました"


def test_an_event_read_again_makes_no_second_alert(csm):
    account = AccountFactory(owner=csm)
    _grade_changed(account, "green", "yellow")
    assert _deliver() == 1
    assert Alert.objects.count() == 1
    # As after a crash before the position was stored: the same event is handed out again.
    ConsumerPosition.objects.filter(name=CONSUMER).delete()
    assert _deliver() == 1
    assert Alert.objects.count() == 1


def test_a_churn_alerts_the_account_people(csm):
    account = AccountFactory(owner=csm, name="Globex")
    subscription = revenue_services.create_subscription(
        account=account, product="Pro", mrr="500", started_on=date(2026, 1, 1), confirm=True
    )
    revenue_services.cancel_subscription(subscription=subscription, canceled_on=date(2026, 6, 1))
    _deliver()
    (alert,) = Alert.objects.filter(kind="mrr.movement")
    assert alert.recipient_id == csm.pk
    assert alert_text(alert).startswith("Globex churned (500")


def test_a_contraction_is_no_churn_alert(csm):
    account = AccountFactory(owner=csm)
    first = revenue_services.create_subscription(
        account=account, product="Pro", mrr="500", started_on=date(2026, 1, 1), confirm=True
    )
    revenue_services.create_subscription(
        account=account, product="Add-on", mrr="50", started_on=date(2026, 1, 1), confirm=True
    )
    revenue_services.cancel_subscription(subscription=first, canceled_on=date(2026, 6, 1))
    _deliver()
    assert not Alert.objects.exists()


def test_a_champion_who_loses_the_role_or_is_removed_alerts_the_account_people(csm):
    account = AccountFactory(owner=csm, name="Initech")
    kept = ContactFactory(account=account, name="Kim Keeper")
    account_services.update_contact(contact=kept, actor=None, roles=["champion"])
    account_services.update_contact(contact=kept, actor=None, roles=["user"])
    gone = ContactFactory(account=account, name="Gil Gone")
    account_services.update_contact(contact=gone, actor=None, roles=["champion", "decision_maker"])
    account_services.delete_contact(contact=gone, actor=None)
    plain = ContactFactory(account=account, name="Pat Plain")
    account_services.delete_contact(contact=plain, actor=None)  # never a champion: no alert
    _deliver()
    texts = sorted(alert_text(alert) for alert in Alert.objects.filter(recipient=csm))
    assert texts == [
        "Champion Gil Gone was removed from Initech",
        "Kim Keeper is no longer the champion at Initech",
    ]


def test_alerts_are_made_by_a_poller_of_every_worker():
    assert "home.alerts" in {poller.name for poller in registered_pollers()}
    assert {"health.grade_changed", "mrr.movement", "contact.changed", "contact.removed"} <= set(
        registered_alert_kinds()
    )


def test_the_home_page_shows_unread_alerts_and_marks_them_read(client, csm):
    account = AccountFactory(owner=csm, name="Umbrella")
    _grade_changed(account, "yellow", "red")
    _deliver()
    alert = Alert.objects.get()
    client.force_login(csm)
    page = client.get(reverse("my-day")).content.decode()
    assert "Health of Umbrella fell from Yellow to Red" in page
    response = client.post(reverse("alert-read", kwargs={"alert_id": alert.pk}))
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.read_at is not None
    assert "Health of Umbrella fell" not in client.get(reverse("my-day")).content.decode()


def test_someone_elses_alert_cannot_be_marked_read(client, csm):
    other = UserFactory()
    alert = Alert.objects.create(recipient=other, kind="x", title="Not yours")
    client.force_login(csm)
    assert client.post(reverse("alert-read", kwargs={"alert_id": alert.pk})).status_code == 404
    alert.refresh_from_db()
    assert alert.read_at is None


def test_mark_all_read_marks_only_the_viewers_alerts(client, csm):
    other = UserFactory()
    Alert.objects.create(recipient=csm, kind="x", title="Mine")
    Alert.objects.create(recipient=csm, kind="x", title="Mine too")
    theirs = Alert.objects.create(recipient=other, kind="x", title="Theirs")
    client.force_login(csm)
    assert client.post(reverse("alerts-read-all")).status_code == 302
    assert not Alert.objects.filter(recipient=csm, read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_an_htmx_mark_read_answers_an_empty_fragment(client, csm):
    alert = Alert.objects.create(recipient=csm, kind="x", title="Mine")
    client.force_login(csm)
    response = client.post(reverse("alert-read", kwargs={"alert_id": alert.pk}), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and response.content == b""
