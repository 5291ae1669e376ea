"""Open pixel and click redirect: signed tokens, first open/click only, nothing when tracking is off."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import signing
from django.test import Client

from tests.factories import ContactFactory
from tests.journeys.entries_support import live_journey
from touchpoint.journeys import tracking
from touchpoint.journeys.models import DeliverySettings, Enrollment, OutboxKind, OutboxRow, OutboxStatus

pytestmark = pytest.mark.django_db

JOURNEY = {
    "key": "mails",
    "name": "Mails",
    "entry": {"trigger": "manual"},
    "messages": {"m": {"en": {"subject": "Hi", "body": "Hello"}}},
    "steps": [{"id": "mail", "type": "email", "message": "m"}],
}


@pytest.fixture
def row():
    contact = ContactFactory()
    version = live_journey(JOURNEY)
    enrollment = Enrollment.objects.create(
        journey=version.journey,
        version=version,
        account=contact.account,
        contact=contact,
        subject_key=f"contact:{contact.pk}",
    )
    return OutboxRow.objects.create(
        enrollment=enrollment,
        step_id="mail",
        kind=OutboxKind.EMAIL,
        recipient_key=f"contact:{contact.pk}",
        account=contact.account,
        contact=contact,
        status=OutboxStatus.SENT,
    )


@pytest.fixture
def tracking_on(db):
    settings_row = DeliverySettings.load()
    settings_row.track_opens_and_clicks = True
    settings_row.save()


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def test_urls_are_absolute_on_the_base_url(row, settings):
    settings.TOUCHPOINT_BASE_URL = "https://cs.example.com"
    assert tracking.pixel_url(row).startswith("https://cs.example.com/t/o/")
    assert tracking.pixel_url(row).endswith(".gif")
    click = tracking.click_url(row, "https://docs.example.com/start?a=1&b=2")
    assert click.startswith("https://cs.example.com/t/c/")
    assert parse_qs(urlsplit(click).query)["u"] == ["https://docs.example.com/start?a=1&b=2"]


def test_the_pixel_records_the_first_open_only(row, tracking_on):
    client = Client()
    response = client.get(_path(tracking.pixel_url(row)))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/gif"
    assert response.content.startswith(b"GIF89a")
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    row.refresh_from_db()
    first = row.opened_at
    assert first is not None
    client.get(_path(tracking.pixel_url(row)))
    row.refresh_from_db()
    assert row.opened_at == first


def test_a_click_records_and_redirects_to_the_signed_url_only(row, tracking_on):
    client = Client()
    target = "https://docs.example.com/start?a=1&b=2"
    response = client.get(_path(tracking.click_url(row, target)))
    assert response.status_code == 302
    assert response["Location"] == target
    row.refresh_from_db()
    assert row.clicked_at is not None and row.opened_at is not None  # the pixel may have been blocked
    first = row.clicked_at
    client.get(_path(tracking.click_url(row, target)))
    row.refresh_from_db()
    assert row.clicked_at == first

    # The same token with another URL is no redirect anywhere (no open redirect).
    token = urlsplit(tracking.click_url(row, target)).path.rsplit("/", 1)[1]
    assert client.get(f"/t/c/{token}", {"u": "https://evil.example.com/"}).status_code == 404
    assert client.get(f"/t/c/{token}").status_code == 404


def test_forged_or_foreign_tokens_are_404(row, tracking_on):
    client = Client()
    assert client.get("/t/o/not-a-token.gif").status_code == 404
    assert client.get("/t/o/" + "a" * 5000 + ".gif").status_code == 404
    forged = signing.dumps(row.pk, salt="something else")
    assert client.get(f"/t/o/{forged}.gif").status_code == 404
    # A pixel token is not a click token.
    pixel_token = urlsplit(tracking.pixel_url(row)).path.rsplit("/", 1)[1].removesuffix(".gif")
    assert client.get(f"/t/c/{pixel_token}", {"u": "https://x.example.com"}).status_code == 404
    row.refresh_from_db()
    assert row.opened_at is None and row.clicked_at is None


def test_only_web_links_are_redirected(row, tracking_on):
    url = tracking.click_url(row, "javascript:alert(1)")
    assert Client().get(_path(url)).status_code == 404


def test_nothing_is_recorded_while_tracking_is_off(row):
    client = Client()
    assert client.get(_path(tracking.pixel_url(row))).status_code == 404
    assert client.get(_path(tracking.click_url(row, "https://docs.example.com/"))).status_code == 404
    row.refresh_from_db()
    assert row.opened_at is None and row.clicked_at is None
    assert not DeliverySettings.objects.exists()  # reading the setting did not create it


def test_the_pixel_of_a_deleted_row_is_still_a_gif(row, tracking_on):
    url = _path(tracking.pixel_url(row))
    row.delete()
    assert Client().get(url).status_code == 200


def test_tokens_are_the_same_whenever_they_are_made(row, monkeypatch):
    # The email is built at one second and checked (or re-rendered) at another: no timestamp inside.
    first = (tracking.pixel_url(row), tracking.click_url(row, "https://docs.example.com/"))
    monkeypatch.setattr(signing.time, "time", lambda: 4_000_000_000.0)
    assert (tracking.pixel_url(row), tracking.click_url(row, "https://docs.example.com/")) == first


def test_links_in_emails_sent_before_tokens_lost_their_timestamp_still_work(row, tracking_on):
    older = signing.dumps(row.pk, salt=tracking.SALT_OPEN)
    assert Client().get(f"/t/o/{older}.gif").status_code == 200
    row.refresh_from_db()
    assert row.opened_at is not None
