"""The daily digest: sent through a real SMTP server (aiosmtpd on 127.0.0.1), once per person and day."""

from __future__ import annotations

import email
import socket
from datetime import date, timedelta
from email.header import decode_header, make_header

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from tests.factories import AccountFactory, UserFactory
from touchpoint.home import digest
from touchpoint.home.digest import DigestLine, DigestPart, digest_parts, send_daily_digests, send_digest
from touchpoint.home.models import Alert, DigestDelivery
from touchpoint.home.tasks import send_daily_digests_task
from touchpoint.scheduler.registry import registered_schedules

# Transactional: the email leaves after the claim commits, as in the worker.
pytestmark = pytest.mark.django_db(transaction=True)

DAY = date(2026, 12, 2)


class Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp(settings):
    """A real SMTP server; Django's SMTP backend (as in production) pointed at it."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.TOUCHPOINT_BASE_URL = "https://cs.example.com"
    yield inbox
    controller.stop()


def subject_of(message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def text_of(message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
    raise AssertionError("no text part")


def html_of(message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/html":
            return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
    raise AssertionError("no html part")


def alert_for(user, *, title="Health of Acme fell from green to red", minutes_ago=10, **kwargs):
    account = kwargs.pop("account", None) or AccountFactory(owner=user, name="Acme")
    return Alert.objects.create(
        recipient=user,
        account=account,
        kind="health.grade_changed",
        title=title,
        data={"account": account.name, "from": "green", "to": "red"},
        url=f"/accounts/{account.pk}/",
        created_at=timezone.now() - timedelta(minutes=minutes_ago),
        **kwargs,
    )


def test_the_digest_carries_new_alerts_through_smtp_once_a_day(smtp, csm):
    alert = alert_for(csm)
    assert send_daily_digests(day=DAY) == 1
    (message,) = smtp.messages
    assert message["To"] == csm.email
    assert subject_of(message) == "Your day in Touchpoint: 1 new alert"
    body = text_of(message)
    assert "Health of Acme fell from Green to Red" in body
    assert f"https://cs.example.com/accounts/{alert.account_id}/" in body
    assert "https://cs.example.com/my-settings/" in body
    assert "Health of Acme fell from Green to Red" in html_of(message)
    delivery = DigestDelivery.objects.get(user=csm, day=DAY)
    assert delivery.status == DigestDelivery.Status.SENT and delivery.alert_count == 1
    # The schedule fires again, a second worker runs, the task is retried: nothing more is sent.
    assert send_daily_digests(day=DAY) == 0
    assert send_digest(user=csm, day=DAY) is None
    assert len(smtp.messages) == 1


def test_the_next_digest_holds_only_the_alerts_since_the_last(smtp, csm):
    alert_for(csm, title="old")
    send_digest(user=csm, day=DAY)
    alert_for(
        csm, title="Churn at Initech", minutes_ago=-1, account=AccountFactory(owner=csm, name="Initech")
    )
    Alert.objects.filter(title="Churn at Initech").update(kind="other")  # shown by its stored title
    send_digest(user=csm, day=DAY + timedelta(days=1), now=timezone.now() + timedelta(minutes=5))
    first, second = smtp.messages
    assert "Acme" in text_of(first) and "Initech" not in text_of(first)
    assert "Churn at Initech" in text_of(second) and "Acme" not in text_of(second)


def test_a_person_who_opted_out_gets_no_digest(smtp, csm):
    csm.receive_daily_digest = False
    csm.save()
    alert_for(csm)
    assert send_daily_digests(day=DAY) == 0
    assert smtp.messages == [] and not DigestDelivery.objects.exists()


def test_nothing_new_sends_nothing(smtp, csm):
    assert send_daily_digests(day=DAY) == 0
    assert smtp.messages == []
    assert DigestDelivery.objects.get(user=csm).status == DigestDelivery.Status.EMPTY


def test_the_digest_is_written_in_the_recipients_language(smtp, csm):
    csm.language = "ja"
    csm.save()
    alert_for(csm)
    send_digest(user=csm, day=DAY)
    body = text_of(smtp.messages[0])
    assert "Acme" in body and "緑" in body and "赤" in body  # Green and Red, in Japanese
    assert "Green" not in body


def test_a_digest_claimed_by_another_sender_is_not_sent_again(smtp, csm):
    alert_for(csm)
    # Another worker claimed it (or died after claiming: a digest may be lost, never sent twice).
    DigestDelivery.objects.create(user=csm, day=DAY, alerts_until=timezone.now())
    assert send_digest(user=csm, day=DAY) is None
    assert smtp.messages == []


def test_a_refused_send_is_marked_failed_and_sent_by_the_next_run(smtp, settings, csm):
    alert_for(csm)
    working_port = settings.EMAIL_PORT
    settings.EMAIL_PORT = _free_port()  # nobody listens there
    delivery = send_digest(user=csm, day=DAY)
    assert delivery is not None and delivery.status == DigestDelivery.Status.FAILED
    assert DigestDelivery.objects.get(pk=delivery.pk).status == DigestDelivery.Status.FAILED
    settings.EMAIL_PORT = working_port
    assert send_daily_digests(day=DAY) == 1
    assert send_daily_digests(day=DAY) == 0
    assert len(smtp.messages) == 1
    assert DigestDelivery.objects.get(pk=delivery.pk).status == DigestDelivery.Status.SENT


@pytest.mark.django_db
def test_the_send_waits_for_the_claim_to_commit(smtp, csm, django_capture_on_commit_callbacks):
    alert_for(csm)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        send_digest(user=csm, day=DAY)
    assert smtp.messages == [] and len(callbacks) == 1  # nothing leaves before the commit
    callbacks[0]()
    assert len(smtp.messages) == 1


def test_apps_add_parts_to_the_digest(smtp, csm):
    def due(user, day):
        return DigestPart(title="Tasks", lines=[DigestLine(text=f"2 tasks due {day}", url="/tasks/")])

    digest_parts.add(key="test-tasks", build=due)
    try:
        assert send_daily_digests(day=DAY) == 1  # no alert, but a part: worth an email
    finally:
        digest_parts.remove("test-tasks")
    body = text_of(smtp.messages[0])
    assert "2 tasks due 2026-12-02" in body and "https://cs.example.com/tasks/" in body
    assert subject_of(smtp.messages[0]) == "Your day in Touchpoint"


def test_many_alerts_are_listed_up_to_a_limit_and_counted(smtp, csm):
    account = AccountFactory(owner=csm, name="Acme")
    for n in range(digest.MAX_ALERTS + 3):
        alert_for(csm, account=account, minutes_ago=n + 1)
    send_digest(user=csm, day=DAY)
    body = text_of(smtp.messages[0])
    assert body.count("Health of Acme") == digest.MAX_ALERTS and "and 3 more" in body


def test_the_digest_is_a_daily_schedule_and_its_task_sends(smtp, csm):
    schedule = next(s for s in registered_schedules() if s.name == "home.daily_digest")
    assert schedule.task is send_daily_digests_task
    alert_for(csm)
    other = UserFactory()
    alert_for(other, account=AccountFactory(owner=other))
    assert send_daily_digests_task.call(DAY.isoformat()) == 2
    assert sorted(m["To"] for m in smtp.messages) == sorted([csm.email, other.email])
