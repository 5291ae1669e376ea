"""Journey emails through a real SMTP server (aiosmtpd on 127.0.0.1): headers, language, consent,
the weekly cap, quiet hours in the person's time zone, refusals and retries, leases."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from aiosmtpd.controller import Controller
from django.core.management import call_command

from tests.factories import AccountFactory, ContactFactory
from tests.journeys.delivery_support import Inbox, email_row, free_port, make_version, part_of, subject_of
from touchpoint.journeys import consent, delivery
from touchpoint.journeys.delivery import send_due
from touchpoint.journeys.models import ConsentStatus, DeliverySettings, OutboxKind, OutboxRow, OutboxStatus
from touchpoint.scheduler.registry import registered_pollers

pytestmark = pytest.mark.django_db

# 13:00 UTC: 22:00 in Tokyo (quiet), 08:00 in New York (quiet just ended).
NOON = datetime(2026, 12, 2, 13, 0, tzinfo=UTC)
# Daytime in the site's time zone (UTC), for people without one of their own.
DAY = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def smtp(settings):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.TOUCHPOINT_BASE_URL = "https://cs.example.com"
    settings.TIME_ZONE = "UTC"
    yield inbox
    controller.stop()


@pytest.fixture
def version(db):
    return make_version()


@pytest.fixture
def rules(db):
    found = DeliverySettings.load()
    found.quiet_hours_start, found.quiet_hours_end = time(21), time(8)
    found.weekly_email_cap = 3
    found.save()
    return found


def test_an_email_goes_out_once_with_its_headers_and_unsubscribe_link(smtp, version, rules):
    contact = ContactFactory(name="Ann Lee", email="ann@acme.example", account=AccountFactory(name="Acme"))
    row = email_row(version, contact)
    assert send_due(now=NOON) == 1
    assert send_due(now=NOON + timedelta(hours=1)) == 0
    row.refresh_from_db()
    assert row.status == OutboxStatus.SENT and row.attempts == 1 and row.sent_at == NOON
    assert row.message_id.startswith(f"<journey-{row.pk}-") and row.message_id.endswith("@cs.example.com>")
    [message] = smtp.messages
    assert message["Message-ID"] == row.message_id
    assert message["To"] == "ann@acme.example"
    assert subject_of(message) == "Welcome to Acme, Ann"
    link = consent.unsubscribe_url(contact)
    assert link.startswith("https://cs.example.com/") and "/u/" in link
    assert "".join(message["List-Unsubscribe"].split()) == f"<{link}>"  # folded: a long line
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert link in part_of(message, "text/plain")
    html = part_of(message, "text/html")
    assert f'href="{link}"' in html
    assert '<a href="https://docs.example.com/start"' in html  # no tracking: links untouched
    assert "<img" not in html


def test_the_message_id_is_stable_for_the_row(version):
    row = email_row(version)
    assert delivery.message_id_for(row) == delivery.message_id_for(OutboxRow.objects.get(pk=row.pk))
    other = email_row(version)
    assert delivery.message_id_for(other) != delivery.message_id_for(row)


def test_each_person_gets_their_language(smtp, version, rules):
    japanese = ContactFactory(
        name="Hanako", language="ja", account=AccountFactory(name="Acme", language="en")
    )
    by_account = ContactFactory(name="Taro", language="", account=AccountFactory(name="Beta", language="ja"))
    thai = ContactFactory(name="Somchai", language="th", account=AccountFactory(name="Gamma", language="ru"))
    rows = [email_row(version, person) for person in (japanese, by_account, thai)]
    assert send_due(now=DAY) == 3
    subjects = {m["To"]: subject_of(m) for m in smtp.messages}
    assert subjects[japanese.email] == "ようこそ Hanako 様"
    assert subjects[by_account.email] == "ようこそ Taro 様"
    assert subjects[thai.email] == "Welcome to Gamma, Somchai"
    assert [OutboxRow.objects.get(pk=r.pk).language for r in rows] == ["ja", "ja", "en"]
    # The unsubscribe line follows the message's language too.
    japanese_mail = next(m for m in smtp.messages if m["To"] == japanese.email)
    assert japanese_mail["Content-Language"] == "ja"


def test_unsubscribed_people_and_people_without_an_address_get_nothing(smtp, version, rules):
    gone = ContactFactory()
    consent.set_consent(contact=gone, status=ConsentStatus.UNSUBSCRIBED, source="csm")
    silent = ContactFactory(email="")
    unsubscribed, no_address = email_row(version, gone), email_row(version, silent)
    assert send_due(now=DAY) == 0
    assert smtp.messages == []
    unsubscribed.refresh_from_db()
    no_address.refresh_from_db()
    assert (unsubscribed.status, unsubscribed.suppressed_reason) == (OutboxStatus.SUPPRESSED, "unsubscribed")
    assert (no_address.status, no_address.suppressed_reason) == (OutboxStatus.SUPPRESSED, "no_address")


def test_the_weekly_cap_counts_emails_of_every_journey(smtp, version, rules):
    rules.weekly_email_cap = 2
    rules.save()
    other = make_version(key="renewal")
    busy, calm = ContactFactory(), ContactFactory()
    moment = DAY
    email_row(other, busy, status=OutboxStatus.SENT, sent_at=moment - timedelta(days=6))
    email_row(version, busy, status=OutboxStatus.SENT, sent_at=moment - timedelta(days=1))
    email_row(other, busy, status=OutboxStatus.SENT, sent_at=moment - timedelta(days=8))  # too old to count
    capped = email_row(version, busy)
    fine = email_row(version, calm)
    assert send_due(now=moment) == 1
    capped.refresh_from_db()
    assert (capped.status, capped.suppressed_reason) == (OutboxStatus.SUPPRESSED, "capped")
    assert OutboxRow.objects.get(pk=fine.pk).status == OutboxStatus.SENT
    assert [m["To"] for m in smtp.messages] == [calm.email]


def test_a_cap_of_zero_means_no_cap(smtp, version, rules):
    rules.weekly_email_cap = 0
    rules.save()
    person = ContactFactory()
    for _ in range(4):
        email_row(version, person)
    assert send_due(now=DAY) == 4


def test_quiet_hours_follow_each_persons_time_zone(smtp, version, rules):
    tokyo = ContactFactory(time_zone="Asia/Tokyo")
    new_york = ContactFactory(time_zone="America/New_York")
    site = ContactFactory(time_zone="")  # the site's TIME_ZONE (UTC): 13:00
    tokyo_row, new_york_row, site_row = (email_row(version, c) for c in (tokyo, new_york, site))
    assert send_due(now=NOON) == 2
    tokyo_row.refresh_from_db()
    # 22:00 in Tokyo: it waits, without an attempt, until 08:00 there (23:00 UTC).
    assert tokyo_row.status == OutboxStatus.PENDING and tokyo_row.attempts == 0
    assert tokyo_row.next_attempt_at == datetime(2026, 12, 2, 23, 0, tzinfo=UTC)
    assert {OutboxRow.objects.get(pk=r.pk).status for r in (new_york_row, site_row)} == {OutboxStatus.SENT}
    assert send_due(now=datetime(2026, 12, 2, 22, 59, tzinfo=UTC)) == 0
    assert send_due(now=datetime(2026, 12, 2, 23, 0, tzinfo=UTC)) == 1
    assert sorted(m["To"] for m in smtp.messages) == sorted([tokyo.email, new_york.email, site.email])


def test_at_night_in_new_york_it_is_daytime_in_tokyo(smtp, version, rules):
    tokyo, new_york = ContactFactory(time_zone="Asia/Tokyo"), ContactFactory(time_zone="America/New_York")
    email_row(version, tokyo)
    waiting = email_row(version, new_york)
    three_utc = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)  # 12:00 in Tokyo, 22:00 in New York
    assert send_due(now=three_utc) == 1
    assert [m["To"] for m in smtp.messages] == [tokyo.email]
    waiting.refresh_from_db()
    assert waiting.next_attempt_at == datetime(2026, 12, 2, 13, 0, tzinfo=UTC)  # 08:00 EST


def test_quiet_hours_that_do_not_cross_midnight():
    zone = delivery.zone_of(None)
    lunch = delivery.quiet_until(datetime(2026, 12, 2, 12, 30, tzinfo=UTC), zone, time(12), time(13))
    assert lunch == datetime(2026, 12, 2, 13, tzinfo=UTC)
    assert delivery.quiet_until(datetime(2026, 12, 2, 13, 0, tzinfo=UTC), zone, time(12), time(13)) is None
    assert delivery.quiet_until(datetime(2026, 12, 2, 3, 0, tzinfo=UTC), zone, time(8), time(8)) is None


def test_a_refusal_at_the_final_dot_is_retried_later(smtp, version, rules):
    row = email_row(version)
    smtp.refuse[delivery.message_id_for(row)] = ["451 4.3.0 Try again later"]
    moment = DAY
    assert send_due(now=moment) == 0
    row.refresh_from_db()
    assert row.status == OutboxStatus.PENDING and row.attempts == 1 and row.sent_at is None
    assert "451" in row.last_error
    assert row.next_attempt_at == moment + timedelta(minutes=1)
    assert send_due(now=moment + timedelta(seconds=30)) == 0  # not yet
    assert send_due(now=moment + timedelta(minutes=1)) == 1
    row.refresh_from_db()
    assert row.status == OutboxStatus.SENT and row.attempts == 2 and row.last_error == ""
    assert smtp.ids() == [row.message_id]


def test_a_permanent_refusal_fails_the_row_and_the_next_one_still_goes(smtp, version, rules):
    refused, fine = email_row(version), email_row(version)
    smtp.refuse[delivery.message_id_for(refused)] = ["554 5.7.1 Rejected"]
    assert send_due(now=DAY) == 1
    refused.refresh_from_db()
    assert refused.status == OutboxStatus.FAILED and "554" in refused.last_error
    assert smtp.ids() == [OutboxRow.objects.get(pk=fine.pk).message_id]


def test_temporary_failures_back_off_then_park(version, rules, settings):
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nobody listens
    rules.quiet_hours_start = rules.quiet_hours_end = time(0)  # no quiet hours: the retries cross a night
    rules.save()
    row = email_row(version)
    moment = DAY
    waits = []
    for _ in range(6):
        send_due(now=moment)
        row.refresh_from_db()
        if row.status == OutboxStatus.FAILED:
            break
        waits.append(row.next_attempt_at - moment)
        moment = row.next_attempt_at
    assert waits == list(delivery.BACKOFF)
    assert row.status == OutboxStatus.FAILED and row.attempts == 6 and "SMTP" in row.last_error


def test_a_row_left_sending_by_a_dead_worker_is_sent_after_its_lease(smtp, version, rules):
    moment = DAY
    expired = email_row(
        version, status=OutboxStatus.SENDING, attempts=1, next_attempt_at=moment - timedelta(seconds=1)
    )
    held = email_row(
        version, status=OutboxStatus.SENDING, attempts=1, next_attempt_at=moment + timedelta(minutes=1)
    )
    assert send_due(now=moment) == 1
    expired.refresh_from_db()
    assert expired.status == OutboxStatus.SENT and expired.attempts == 2
    assert OutboxRow.objects.get(pk=held.pk).status == OutboxStatus.SENDING  # its worker may be alive
    assert smtp.ids() == [expired.message_id]


def test_a_slow_worker_whose_lease_was_taken_over_does_not_complete_its_copy(smtp, version, rules):
    row = email_row(version)
    moment = DAY
    found, claim = delivery._claim_email(moment, delivery.LEASE, rules, delivery.Definitions())
    assert found and claim is not None
    # Meanwhile the lease ran out and another worker claimed the row (attempt 2).
    OutboxRow.objects.filter(pk=row.pk).update(attempts=2)
    connection = delivery.Connection()
    try:
        assert delivery._deliver(claim, connection) is False
    finally:
        connection.close()
    assert smtp.messages == []  # the message never got its final dot
    row.refresh_from_db()
    assert row.status == OutboxStatus.SENDING and row.attempts == 2


def test_a_template_error_fails_the_row_with_the_reason(smtp, version, rules):
    row = email_row(version, message="broken")
    assert send_due(now=DAY) == 0
    row.refresh_from_db()
    assert row.status == OutboxStatus.FAILED and "broken" in row.last_error
    assert smtp.messages == []


def test_tracking_adds_a_pixel_and_rewrites_links_when_switched_on(smtp, version, rules):
    tracking = pytest.importorskip("touchpoint.journeys.tracking")
    rules.track_opens_and_clicks = True
    rules.save()
    row = email_row(version)
    assert send_due(now=DAY) == 1
    row.refresh_from_db()
    html = part_of(smtp.messages[0], "text/html").replace("&amp;", "&")
    assert tracking.pixel_url(row) in html
    assert tracking.click_url(row, "https://docs.example.com/start") in html
    assert 'href="https://docs.example.com/start"' not in html
    assert f'href="{consent.unsubscribe_url(row.contact)}"' in html  # the unsubscribe link stays direct


def test_the_worker_polls_the_outbox():
    assert "journeys.send" in [poller.name for poller in registered_pollers()]


def test_the_command_sends_what_is_due(smtp, version, rules):
    email_row(version, ContactFactory(time_zone="Asia/Tokyo"), next_attempt_at=NOON - timedelta(days=300))
    call_command("journey_send", "--limit", "10")  # real clock: whatever the hour, the row moves on
    row = OutboxRow.objects.get(kind=OutboxKind.EMAIL)
    assert row.status == OutboxStatus.SENT or row.next_attempt_at > NOON - timedelta(days=300)


def test_the_link_in_an_email_unsubscribes_and_the_next_email_is_not_sent(smtp, version, rules, client):
    contact = ContactFactory()
    email_row(version, contact)
    assert send_due(now=DAY) == 1
    header = "".join(smtp.messages[0]["List-Unsubscribe"].split())
    path = header.strip("<>").removeprefix("https://cs.example.com")
    # What a mail client's unsubscribe button does (RFC 8058).
    assert client.post(path, {"List-Unsubscribe": "One-Click"}).status_code == 200
    later = email_row(version, contact)
    assert send_due(now=DAY) == 0
    later.refresh_from_db()
    assert later.suppressed_reason == "unsubscribed"
    assert len(smtp.messages) == 1


def test_a_stored_definition_that_no_longer_validates_fails_its_rows_without_blocking_others(
    smtp, version, rules
):
    from touchpoint.journeys.models import JourneyVersion

    broken_version = make_version(key="broken")
    JourneyVersion.objects.filter(pk=broken_version.pk).update(definition={"key": "broken"})
    stuck = email_row(broken_version, next_attempt_at=datetime(2025, 1, 1, tzinfo=UTC))  # first in line
    fine = email_row(version)
    assert send_due(now=DAY) == 1
    stuck.refresh_from_db()
    assert stuck.status == OutboxStatus.FAILED and "not valid" in stuck.last_error
    assert OutboxRow.objects.get(pk=fine.pk).status == OutboxStatus.SENT
