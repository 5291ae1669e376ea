import pytest
from django.urls import reverse

from tests.conftest import logged_in_client
from touchpoint.usage.models import RawEvent, ReceivedMessage, Source
from touchpoint.usage.services import create_source, ingest

pytestmark = pytest.mark.django_db


def test_admin_creates_a_source_and_sees_its_key_and_snippets(admin_user):
    client = logged_in_client(admin_user)
    response = client.post(reverse("sources"), {"name": "Web app"})
    source = Source.objects.get(name="Web app")
    assert response.status_code == 302 and response["Location"] == reverse("source-detail", args=[source.pk])
    page = client.get(response["Location"]).content.decode()
    assert source.write_key in page and "segment.analytics" in page and "curl -u" in page
    assert "Event sources" in client.get(reverse("portfolio")).content.decode()


def test_a_duplicate_or_empty_name_is_shown_beside_the_field(admin_user):
    client = logged_in_client(admin_user)
    create_source(name="Web app", actor=None)
    for name in ("web app", ""):
        response = client.post(reverse("sources"), {"name": name})
        assert response.status_code == 400 and "field-error" in response.content.decode()
    assert Source.objects.count() == 1


def test_the_debugger_shows_recent_events_and_refreshes_with_htmx(admin_user):
    source = create_source(name="Backend", actor=None)
    ingest(
        source=source,
        payloads=[{"type": "track", "messageId": "m1", "userId": "u1", "event": "Invoice sent"}],
    )
    client = logged_in_client(admin_user)
    page = client.get(reverse("source-detail", args=[source.pk])).content.decode()
    assert "Invoice sent" in page and 'hx-trigger="every 3s"' in page
    partial = client.get(reverse("source-detail", args=[source.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert "Invoice sent" in partial and "<html" not in partial


def test_only_admins_see_write_keys(csm_client, viewer_client, leader):
    source = create_source(name="Secret", actor=None)
    for client in (csm_client, viewer_client, logged_in_client(leader)):
        assert client.get(reverse("sources")).status_code == 403
        assert client.get(reverse("source-detail", args=[source.pk])).status_code == 403
        assert client.post(reverse("sources"), {"name": "Sneaky"}).status_code == 403
        assert "Event sources" not in client.get(reverse("portfolio")).content.decode()
    assert not Source.objects.filter(name="Sneaky").exists()


def test_deleting_a_source_takes_its_events_and_message_ids_with_it():
    # Neither table has a database-level key to the source (a check per event on the hottest path):
    # the ORM's CASCADE removes them, and the other source's stay.
    kept, dropped = create_source(name="Kept", actor=None), create_source(name="Dropped", actor=None)
    for source in (kept, dropped):
        ingest(source=source, payloads=[{"type": "track", "messageId": "m1", "userId": "u1", "event": "E"}])
    dropped.delete()
    assert list(ReceivedMessage.objects.values_list("source_id", flat=True)) == [kept.pk]
    assert list(RawEvent.objects.values_list("source_id", flat=True)) == [kept.pk]
