"""Backpressure: past TOUCHPOINT_INGEST_BACKLOG_LIMIT events waiting for the rollups, the tracking API
answers 503 with Retry-After and stores nothing; the backlog and its age show on the sources page."""

import base64

import orjson
import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import logged_in_client
from tests.factories import AccountFactory
from touchpoint.usage import rollups, tracking
from touchpoint.usage.models import PendingRollup, RawEvent, ReceivedMessage
from touchpoint.usage.services import create_source

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _read_the_backlog_every_time(monkeypatch):
    monkeypatch.setattr(tracking, "BACKLOG_CHECK_SECONDS", 0.0)


def _send(source, ids, group="acme"):
    body = {
        "batch": [
            {
                "type": "track",
                "messageId": m,
                "userId": "u1",
                "event": "Report created",
                "context": {"groupId": group},
            }
            for m in ids
        ]
    }
    auth = "Basic " + base64.b64encode(f"{source.write_key}:".encode()).decode()
    return Client().post(
        "/v1/batch", orjson.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=auth
    )


def test_past_the_backlog_limit_the_api_answers_503_stores_nothing_and_the_retry_lands_once(settings):
    settings.TOUCHPOINT_INGEST_BACKLOG_LIMIT = 3
    AccountFactory(external_id="acme")
    source = create_source(name="Web app", actor=None)
    assert _send(source, ["a", "b", "c"]).status_code == 200
    assert rollups.backlog()[0] == 3

    refused = _send(source, ["d", "e"])
    assert refused.status_code == 503 and refused["Retry-After"]
    body = refused.json()
    assert body["success"] is False and "TOUCHPOINT_INGEST_BACKLOG_LIMIT=3" in body["errors"][0]["message"]
    assert not RawEvent.objects.filter(message_id__in=["d", "e"]).exists()
    assert not ReceivedMessage.objects.filter(message_id__in=["d", "e"]).exists()

    rollups.refresh_pending()  # the worker catches up ...
    assert rollups.backlog() == (0, None)
    retried = _send(source, ["d", "e"])  # ... and the client's retry is taken, once
    assert retried.status_code == 200 and retried.json()["accepted"] == 2
    assert RawEvent.objects.filter(message_id__in=["d", "e"]).count() == 2


def test_a_limit_of_zero_never_refuses(settings):
    settings.TOUCHPOINT_INGEST_BACKLOG_LIMIT = 0
    AccountFactory(external_id="acme")
    source = create_source(name="Web app", actor=None)
    for n in range(3):
        assert _send(source, [f"m{n}-{i}" for i in range(5)]).status_code == 200
    assert rollups.backlog()[0] == 15


def test_the_sources_page_shows_the_backlog_and_its_age(admin_user, settings):
    settings.TOUCHPOINT_INGEST_BACKLOG_LIMIT = 1000
    AccountFactory(external_id="acme")
    source = create_source(name="Web app", actor=None)
    client = logged_in_client(admin_user)
    assert "Waiting for the usage rollups: 0 events." in client.get(reverse("sources")).content.decode()
    _send(source, ["a", "b"])
    assert PendingRollup.objects.count() == 1
    page = client.get(reverse("sources")).content.decode()
    assert "Waiting for the usage rollups: 2 events." in page and "The oldest was stored" in page
    assert "waiting events the tracking API answers 503" in page
