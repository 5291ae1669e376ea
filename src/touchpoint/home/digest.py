"""The daily digest: one email a day per person, with their new alerts and what other apps add.

Apps add lines without home importing them:

    from touchpoint.home.digest import DigestLine, DigestPart, digest_parts

    def tasks_due(user, day) -> DigestPart | None:
        ...  # e.g. "3 tasks overdue, 2 due today", linking to the task list
    digest_parts.add(key="tasks", build=tasks_due, order=10)

`build(user, day)` runs with the recipient's language active and returns None when it has nothing
to say; a digest with no new alert and no part is not sent.

Exactly once per person and day: `send_digest` inserts the `DigestDelivery` (user, day) row, unique,
in the transaction that decides to send (a second worker, a re-run of the schedule or a retried
task finds the row and stops), the email leaves after that commit, and the row is then marked sent.
If the SMTP server refuses it the row is marked failed and the next run may claim it again; if the
process dies between the claim and the stamp, the row stays "claimed" and is never sent again: a
digest may be lost in a crash, never sent twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext

from touchpoint.events.effects import after_commit
from touchpoint.home.alerts import alert_text
from touchpoint.home.models import Alert, DigestDelivery
from touchpoint.registry import Registry

logger = logging.getLogger(__name__)

# Alerts listed in one email; the rest are counted, with a link to the home page.
MAX_ALERTS = 20


@dataclass(frozen=True)
class DigestLine:
    text: str
    url: str = ""  # a path on this site ("/tasks/?due=today") or a full URL


@dataclass(frozen=True)
class DigestPart:
    title: str
    lines: list[DigestLine] = field(default_factory=list)


@dataclass(frozen=True)
class DigestPartSource:
    key: str
    build: Callable[[Any, date], DigestPart | None]
    order: int = 100


class DigestParts(Registry[DigestPartSource]):
    """What apps add to the daily digest, besides the alerts."""

    def add(
        self, *, key: str, build: Callable[[Any, date], DigestPart | None], order: int = 100
    ) -> DigestPartSource:
        return self._put(key, DigestPartSource(key=key, build=build, order=order))


digest_parts = DigestParts()


def absolute(url: str) -> str:
    """A link that works from an email: site paths get TOUCHPOINT_BASE_URL in front."""
    if not url or "://" in url:
        return url
    return settings.TOUCHPOINT_BASE_URL.rstrip("/") + "/" + url.lstrip("/")


def recipients():
    """The people who get a digest: active, with an email address, not opted out."""
    from touchpoint.users.models import User

    return User.objects.filter(is_active=True, receive_daily_digest=True).exclude(email="").order_by("pk")


def send_daily_digests(*, day: date | None = None) -> int:
    """Send today's digest to everyone who gets one and has not had it; returns how many were sent."""
    day = day or timezone.localdate()
    sent = 0
    for user in recipients().iterator():
        delivery = send_digest(user=user, day=day)
        if delivery is not None and delivery.status == DigestDelivery.Status.SENT:
            sent += 1
    return sent


def _claim(user: Any, day: date, now: datetime) -> DigestDelivery | None:
    """The (user, day) row, newly claimed by this caller; None when someone else has (or had) it."""
    existing = DigestDelivery.objects.select_for_update().filter(user=user, day=day).first()
    if existing is not None:
        if existing.status != DigestDelivery.Status.FAILED:
            return None  # sent, nothing to send, or being sent (or lost in a crash: never twice)
        existing.status = DigestDelivery.Status.CLAIMED
        existing.claimed_at = now
        existing.error = ""
        existing.save(update_fields=["status", "claimed_at", "error"])
        return existing
    try:
        with transaction.atomic():
            return DigestDelivery.objects.create(user=user, day=day, claimed_at=now, alerts_until=now)
    except IntegrityError:
        return None  # a concurrent sender inserted it first (PostgreSQL waits for it, then refuses)


def _alerts_since(user: Any, day: date, until: datetime) -> datetime:
    """Where this digest starts: where the last one before it stopped, else a day back."""
    last = (
        DigestDelivery.objects.filter(
            user=user,
            day__lt=day,
            status__in=[DigestDelivery.Status.SENT, DigestDelivery.Status.EMPTY],
        )
        .order_by("-day")
        .values_list("alerts_until", flat=True)
        .first()
    )
    return last if last is not None else until - timedelta(days=1)


def build_message(
    user: Any, day: date, since: datetime, until: datetime
) -> tuple[EmailMultiAlternatives | None, int]:
    """The digest email in the recipient's language (None when there is nothing to tell them), and
    how many alerts it covers."""
    language = user.language or settings.LANGUAGE_CODE
    with translation.override(language):
        alerts_qs = Alert.objects.filter(
            recipient=user, created_at__gte=since, created_at__lt=until
        ).select_related("account")
        count = alerts_qs.count()
        alerts = [
            {"text": alert_text(alert), "url": absolute(alert.url), "account": alert.account}
            for alert in alerts_qs.order_by("-created_at", "-id")[:MAX_ALERTS]
        ]
        parts = []
        for source in digest_parts.all():
            part = source.build(user, day)
            if part is not None and part.lines:
                parts.append(
                    {
                        "title": part.title,
                        "lines": [{"text": line.text, "url": absolute(line.url)} for line in part.lines],
                    }
                )
        if not count and not parts:
            return None, 0
        context = {
            "user": user,
            "day": day,
            "alerts": alerts,
            "alert_count": count,
            "more": max(0, count - len(alerts)),
            "parts": parts,
            "home_url": absolute(reverse("my-day")),
            "settings_url": absolute(reverse("my-settings")),
        }
        if count:
            subject = ngettext(
                "Your day in Touchpoint: %(count)d new alert",
                "Your day in Touchpoint: %(count)d new alerts",
                count,
            ) % {"count": count}
        else:
            subject = gettext("Your day in Touchpoint")
        text = render_to_string("home/email/digest.txt", context)
        html = render_to_string("home/email/digest.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[user.email])
    message.attach_alternative(html, "text/html")
    return message, count


def send_digest(*, user: Any, day: date, now: datetime | None = None) -> DigestDelivery | None:
    """Claim, build and (after the claim commits) send one person's digest for `day`.

    Returns the delivery row as this call left it, or None when the digest was not this call's to
    send (already sent, empty, or claimed by another sender).
    """
    now = now or timezone.now()
    with transaction.atomic():
        delivery = _claim(user, day, now)
        if delivery is None:
            return None
        since = _alerts_since(user, day, now)
        delivery.alerts_until = now
        message, delivery.alert_count = build_message(user, day, since, now)
        if message is None:
            delivery.status = DigestDelivery.Status.EMPTY
            delivery.save(update_fields=["status", "alerts_until"])
            return delivery
        delivery.save(update_fields=["alerts_until", "alert_count"])
        after_commit(lambda: _deliver(delivery, message))
    return delivery


def _deliver(delivery: DigestDelivery, message: EmailMultiAlternatives) -> None:
    """Hand the email to the SMTP server, then stamp the row (runs after the claim committed)."""
    try:
        message.send()
    except Exception as error:  # SMTP refused or unreachable: nothing went out, a later run may retry
        logger.warning("Daily digest for user %s on %s not sent: %s", delivery.user_id, delivery.day, error)
        delivery.status = DigestDelivery.Status.FAILED
        delivery.error = str(error)[:2000]
        DigestDelivery.objects.filter(pk=delivery.pk, status=DigestDelivery.Status.CLAIMED).update(
            status=delivery.status, error=delivery.error
        )
        return
    delivery.status = DigestDelivery.Status.SENT
    delivery.sent_at = timezone.now()
    DigestDelivery.objects.filter(pk=delivery.pk).update(status=delivery.status, sent_at=delivery.sent_at)
