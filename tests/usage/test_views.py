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


def test_the_panel_shows_events_ingested_a_moment_ago_without_writing_rollups(csm_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from touchpoint.usage import rollups, selectors
    from touchpoint.usage.models import DailyAccountRollup, DailyEventRollup, PendingRollup

    account = AccountFactory(external_id="fresh")
    KeyFeature.objects.create(event="Report created", label="Reports")
    now = timezone.now()
    payloads = [
        {
            "type": "track",
            "messageId": f"old-{i}",
            "userId": f"u{i}",
            "event": "Dashboard opened",
            "context": {"groupId": "fresh"},
            "timestamp": (now - timedelta(days=3)).isoformat(),
        }
        for i in range(3)
    ]
    source = create_source(name="App", actor=None)
    ingest(source=source, payloads=payloads)
    rollups.refresh_pending()
    ingest(  # a moment ago: its days wait for the worker's refresh
        source=source,
        payloads=[
            {
                "type": "track",
                "messageId": f"new-{i}",
                "userId": f"u{i % 2}",
                "event": "Report created" if i else "Dashboard opened",
                "context": {"groupId": "fresh"},
                "timestamp": (now - timedelta(days=3 * (i % 2))).isoformat(),
            }
            for i in range(4)
        ],
    )
    assert PendingRollup.objects.filter(account=account).exists()
    fresh = (
        selectors.usage_by_day(account, days=30),
        selectors.top_events(account, days=30),
        selectors.breadth_of_adoption(account),
    )
    with CaptureQueriesContext(connection) as queries:
        body = csm_client.get(reverse("account-usage", args=[account.pk])).content.decode()
    writes = [q["sql"] for q in queries if q["sql"].split()[0].upper() in {"INSERT", "UPDATE", "DELETE"}]
    assert writes == []
    assert "1 of 1 key features" in body
    assert PendingRollup.objects.filter(account=account).exists()  # the GET left them for the worker
    assert sum(day["events"] for day in fresh[0]) == 7
    assert fresh[1] == [{"event": "Dashboard opened", "events": 4}, {"event": "Report created", "events": 3}]
    assert fresh[2] == (1, 1)
    rollups.refresh_pending()
    assert not PendingRollup.objects.exists()
    assert DailyAccountRollup.objects.filter(account=account).exists()
    assert DailyEventRollup.objects.filter(account=account).exists()
    assert (
        selectors.usage_by_day(account, days=30),
        selectors.top_events(account, days=30),
        selectors.breadth_of_adoption(account),
    ) == fresh  # what the worker stores is what the page showed
