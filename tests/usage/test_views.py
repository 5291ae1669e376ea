from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import AccountFactory
from touchpoint.usage.models import KeyFeature
from touchpoint.usage.services import create_source, ingest

pytestmark = pytest.mark.django_db


def test_usage_panel_shows_chart_people_top_features_and_breadth(csm_client):
    account = AccountFactory(external_id="acme")
    KeyFeature.objects.create(event="Report created", label="Reports")
    KeyFeature.objects.create(event="Dashboard shared", label="Sharing")
    now = timezone.now()
    ingest(
        source=create_source(name="App", actor=None),
        payloads=[
            {
                "type": "track",
                "messageId": str(i),
                "userId": f"u{i % 3}",
                "event": "Report created",
                "context": {"groupId": "acme"},
                "timestamp": (now - timedelta(days=i)).isoformat(),
            }
            for i in range(10)
        ],
    )
    body = csm_client.get(reverse("account-usage", args=[account.pk])).content.decode()
    assert "<svg" in body and "Report created" in body
    assert "1 of 2 key features" in body
    assert "Last seen" in body


def test_usage_panel_without_events_says_so(csm_client, account):
    body = csm_client.get(reverse("account-usage", args=[account.pk])).content.decode()
    assert "No product events from this account yet" in body and "<svg" not in body


def test_account_page_loads_the_panel_with_htmx(csm_client, account):
    body = csm_client.get(reverse("account-detail", args=[account.pk])).content.decode()
    assert reverse("account-usage", args=[account.pk]) in body and 'hx-trigger="load"' in body


def test_usage_panel_needs_login(client, account):
    assert client.get(reverse("account-usage", args=[account.pk])).status_code == 302
