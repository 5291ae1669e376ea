"""The demo company's home: the team reports to the leader, and last week's falls are alerts."""

from __future__ import annotations

from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from touchpoint.events.models import ConsumerPosition, DomainEvent
from touchpoint.home.alerts import CONSUMER, deliver_alerts
from touchpoint.home.models import Alert
from touchpoint.users.models import User

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 20)


def test_the_demo_has_alerts_of_the_last_week_and_a_team_under_the_leader(client):
    call_command(
        "demo",
        "--accounts",
        "60",
        "--days",
        "200",
        "--seed",
        "3",
        "--today",
        TODAY.isoformat(),
        stdout=StringIO(),
    )
    leader = User.objects.get(email__startswith="leader@")
    assert User.objects.filter(reports_to=leader).count() >= 6
    alerts = Alert.objects.all()
    assert alerts.exists()
    assert all(TODAY - timedelta(days=8) <= a.created_at.date() < TODAY for a in alerts)
    assert alerts.filter(read_at__isnull=True).exists()
    # Three months of history are not news: the consumer starts after the demo's events.
    newest = DomainEvent.objects.order_by("-transaction_id", "-id").first()
    assert ConsumerPosition.objects.get(name=CONSUMER).event_id == newest.pk
    before = alerts.count()
    deliver_alerts()
    assert Alert.objects.count() == before
    # The leader's home covers the team's books and shows health falls.
    client.force_login(leader)
    page = client.get(reverse("my-day")).content.decode()
    assert "Your team's books" in page and "Health fell since last week" in page
