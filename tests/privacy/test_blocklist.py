"""Ingestion drops the events of blocked product user ids (counted on the blocklist), also after the
secret key is rotated with the old one kept as a fallback."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import override_settings

from touchpoint.privacy.hashing import digest
from touchpoint.privacy.models import BlockedIdentifier, Erasure
from touchpoint.usage.models import RawEvent
from touchpoint.usage.services import create_source, ingest

pytestmark = pytest.mark.django_db


def track(message_id, **ids):
    return {"type": "track", "messageId": message_id, "event": "Clicked", **ids}


@pytest.fixture
def blocked():
    erasure = Erasure.objects.create(email_digest=digest("gone@example.org"), pseudonym="Erased person 1")
    return BlockedIdentifier.objects.create(digest=digest("gone-user"), erasure=erasure)


def test_blocked_ids_are_dropped_counted_and_not_rejected(blocked):
    source = create_source(name="App", actor=None)
    result = ingest(
        source=source,
        payloads=[
            track("1", userId="gone-user"),
            track("2", anonymousId="GONE-USER"),
            track("3", userId="kept"),
            {"type": "alias", "messageId": "4", "userId": "new-id", "previousId": "gone-user"},
        ],
    )
    assert (result.accepted, result.rejected) == (1, [])
    assert list(RawEvent.objects.values_list("user_id", flat=True)) == ["kept"]
    blocked.refresh_from_db()
    assert blocked.dropped_events == 3 and blocked.last_dropped_at is not None


def test_the_blocklist_survives_a_key_rotation(blocked):
    source = create_source(name="App", actor=None)
    with override_settings(
        SECRET_KEY="a-brand-new-secret-key-" + "x" * 40, SECRET_KEY_FALLBACKS=[settings.SECRET_KEY]
    ):
        result = ingest(source=source, payloads=[track("1", userId="gone-user")])
    assert result.accepted == 0 and not RawEvent.objects.exists()


def test_a_batch_without_blocked_ids_is_stored_whole(blocked):
    source = create_source(name="App", actor=None)
    assert ingest(source=source, payloads=[track("1", userId="a"), track("2", userId="b")]).accepted == 2
