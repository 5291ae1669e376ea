"""Sending what journeys wrote to the outbox: emails (exactly once) and webhooks (signed, retried).

The engine writes an `OutboxRow` in the transaction that moves an enrollment on; `send_due()` (the
"journeys.send" poller of every worker, and `touchpoint journey_send`) picks the rows whose time has
come and hands them over. Each row is its own short transactions: one row's trouble never holds back
another, and any number of workers may run (PostgreSQL: each claim is `SELECT … FOR UPDATE SKIP
LOCKED`; SQLite: one writer at a time, BEGIN IMMEDIATE).

Emails: exactly once, even when a worker is killed
--------------------------------------------------
SMTP delivers a message when the server reads the line holding a single dot that ends DATA; a
connection that drops before it makes the server throw the message away (RFC 5321). So for each row:

  (a) claim: in one transaction check consent, address, quiet hours and the weekly cap, render the
      message, and mark the row SENDING (attempts + 1, next_attempt_at = now + lease); commit.
  (b) on the SMTP connection send MAIL FROM, RCPT TO, DATA and the whole message, but not the dot.
  (c) commit SENT (sent_at) — only if the row is still ours: SENDING with our attempt number.
  (d) send the dot and read the reply. 250: done. Refused (4xx/5xx): the row goes back to PENDING
      with a backoff (4xx) or to FAILED (5xx), with the server's words in last_error.

A worker killed before (c) leaves a SENDING row whose message the server never completed (no dot:
discarded). Once its lease has run out (`LEASE`, two minutes) any worker claims it again and sends it
with the same Message-ID. A worker that was only slow, not dead, finds at (c) that the row is no longer
its own (the attempt number moved on) and drops its connection without the dot: still one copy.
A worker killed between (c) and (d) would lose the message (the row says sent, the server never got
the dot). The guardian (journeys/guardian.py, a small process in its own session that workers start)
closes that gap: before (c) the worker hands it a copy of the SMTP socket; if the worker dies before
it lets go, the guardian waits for the worker's transaction to end and reads the row: committed SENT,
it writes the dot itself; not committed, it closes the socket and the server discards the message.
(With STARTTLS/SMTPS the TLS session dies with the worker; there a kill in the microseconds between
the commit and the dot loses that one message: at most once, never twice.) If the connection fails
after the dot was written but before the reply arrives, the row stays SENT (the server most likely
has it).

Every email has a stable Message-ID made from the row (`<journey-<id>-<hash>@host>`), List-Unsubscribe
and List-Unsubscribe-Post (one click, RFC 8058) headers, an unsubscribe link in the text and the HTML,
and is written in the contact's language (journeys/rendering.py). A row is not sent, and is marked
SUPPRESSED with a reason, when the person unsubscribed ("unsubscribed"), has no address ("no_address")
or already had `DeliverySettings.weekly_email_cap` journey emails in the last 7 days, counted across all
journeys ("capped"; a cap of 0 means no cap). During quiet hours in the person's time zone (else the
site's TIME_ZONE) the row waits until they end: not a failure, not an attempt.

Webhooks are at least once: see journeys/webhooks.py.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib
import logging
import re
import smtplib
import socket
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from html import unescape as html_unescape
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext
from pydantic import ValidationError as PydanticValidationError

from touchpoint.accounts.models import Contact
from touchpoint.journeys import consent, rendering, survey_steps
from touchpoint.journeys.definition import JourneyDefinition, parse
from touchpoint.journeys.guardian import Guardian
from touchpoint.journeys.models import DeliverySettings, JourneyVersion, OutboxKind, OutboxRow, OutboxStatus
from touchpoint.journeys.smtp import Connection, SMTPRefused
from touchpoint.journeys.smtp import read_reply as smtp_read_reply

logger = logging.getLogger(__name__)

# How long a claimed row belongs to its worker; after that another worker may take it over.
LEASE = timedelta(minutes=2)
# Waits before each retry after a temporary failure; when they run out the row is parked as FAILED.
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=12),
)
CAP_WINDOW = timedelta(days=7)


def backoff_after(attempts: int) -> timedelta | None:
    """The wait before the next try after `attempts` failed ones; None: no more tries."""
    if 1 <= attempts <= len(BACKOFF):
        return BACKOFF[attempts - 1]
    return None


def due(kind: str, now: datetime) -> QuerySet[OutboxRow]:
    """Rows of `kind` to send now: pending and due, or sending with a lease that ran out."""
    return OutboxRow.objects.filter(
        kind=kind,
        status__in=[OutboxStatus.PENDING, OutboxStatus.SENDING],
        next_attempt_at__lte=now,
    ).order_by("next_attempt_at", "id")


def lock_skipping_taken(queryset: QuerySet[OutboxRow]) -> QuerySet[OutboxRow]:
    """FOR UPDATE SKIP LOCKED where the database has it (PostgreSQL); SQLite has one writer anyway."""
    if connection.features.has_select_for_update_skip_locked:
        return queryset.select_for_update(skip_locked=True, of=("self",))
    return queryset


# --- Message-ID and the email itself ------------------------------------------------------------


def _host() -> str:
    return urlsplit(settings.TOUCHPOINT_BASE_URL).hostname or "touchpoint.invalid"


def message_id_for(row: OutboxRow) -> str:
    """The row's Message-ID: the same at every attempt, unguessable from outside (keyed hash)."""
    digest = hmac.new(
        settings.SECRET_KEY.encode(), f"journey-outbox:{row.pk}".encode(), hashlib.sha256
    ).hexdigest()[:12]
    return f"<journey-{row.pk}-{digest}@{_host()}>"


_HREF = re.compile(r'href="(https?://[^"]+)"')


def _tracked(row: OutboxRow, html: str, unsubscribe: str) -> str:
    """Links through the click counter and a pixel at the end, when tracking is on."""
    try:  # journeys/tracking.py (the pixel and click endpoints) comes with the entries part
        tracking = importlib.import_module("touchpoint.journeys.tracking")
    except ModuleNotFoundError:
        return html

    def rewrite(match: re.Match[str]) -> str:
        url = html_unescape(match.group(1))  # the href as written in HTML (&amp; for &)
        if url == unsubscribe:
            return match.group(0)
        return f'href="{escape(tracking.click_url(row, url))}"'

    pixel = f'<img src="{escape(tracking.pixel_url(row))}" width="1" height="1" alt="">'
    return _HREF.sub(rewrite, html) + pixel


def build_email(
    row: OutboxRow,
    rendered: rendering.Rendered,
    *,
    sender: str,
    to: str,
    unsubscribe: str,
    track: bool,
) -> bytes:
    """The MIME message: text and HTML, with the headers and the unsubscribe link in the language."""
    with translation.override(rendered.language):
        footer_text = gettext("To stop these emails: %(url)s") % {"url": unsubscribe}
        footer_link = gettext("Unsubscribe")
    text = f"{rendered.text.rstrip()}\n\n-- \n{footer_text}\n"
    html = rendered.html
    if track:
        html = _tracked(row, html, unsubscribe)
    html = (
        f'<!doctype html><html lang="{rendered.language}"><body>{html}'
        f'<p style="margin-top:2em;font-size:12px;color:#666">'
        f'<a href="{escape(unsubscribe)}">{escape(footer_link)}</a></p></body></html>'
    )
    message = EmailMultiAlternatives(
        subject=rendered.subject,
        body=text,
        from_email=sender,
        to=[to],
        headers={
            "Message-ID": row.message_id,
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Content-Language": rendered.language,
        },
    )
    message.attach_alternative(html, "text/html")
    return message.message().as_bytes(linesep="\r\n")


# --- The rules before an email: quiet hours and the weekly cap -----------------------------------


def zone_of(contact: Contact | None) -> ZoneInfo:
    name = (contact.time_zone if contact is not None else "") or settings.TIME_ZONE
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def quiet_until(now: datetime, zone: ZoneInfo, start: time, end: time) -> datetime | None:
    """When the quiet hours around `now` end in `zone`; None when it is not quiet there now."""
    if start == end:
        return None
    local = now.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    if start < end:
        quiet = start <= clock < end
    else:  # over midnight, e.g. 21:00–08:00
        quiet = clock >= start or clock < end
    if not quiet:
        return None
    day = local.date()
    if clock >= end:  # the evening part: quiet ends tomorrow morning
        day += timedelta(days=1)
    return datetime.combine(day, end, tzinfo=zone).astimezone(ZoneInfo("UTC"))


def sent_recently(contact: Contact, now: datetime, *, excluding: int) -> int:
    """Journey emails this person got in the last 7 days (or that are being sent to them now)."""
    return (
        OutboxRow.objects.filter(contact=contact, kind=OutboxKind.EMAIL)
        .filter(Q(status=OutboxStatus.SENT, sent_at__gte=now - CAP_WINDOW) | Q(status=OutboxStatus.SENDING))
        .exclude(pk=excluding)
        .count()
    )


# --- Claiming and sending one email ------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    row_id: int
    attempts: int
    sender: str
    to: str
    message: bytes
    message_id: str
    now: datetime


def _park(row: OutboxRow, *, status: str, reason: str = "", error: str = "") -> None:
    row.status = status
    row.suppressed_reason = reason
    row.last_error = error[:2000]
    row.save(update_fields=["status", "suppressed_reason", "last_error"])


class Definitions:
    """Each version's parsed definition, read once per pass (a pass sends many rows of few versions)."""

    def __init__(self) -> None:
        self._parsed: dict[int, JourneyDefinition] = {}

    def get(self, version_id: int) -> JourneyDefinition:
        """Raises ValidationError when the stored definition no longer validates (the row then fails
        instead of blocking every pass at the head of the queue)."""
        if version_id not in self._parsed:
            data = JourneyVersion.objects.values_list("definition", flat=True).get(pk=version_id)
            try:
                self._parsed[version_id] = parse(data)
            except PydanticValidationError as error:
                raise ValidationError(f"the journey version's definition is not valid: {error}") from error
        return self._parsed[version_id]


def _claim_email(
    now: datetime, lease: timedelta, rules: DeliverySettings, definitions: Definitions
) -> tuple[bool, Claim | None]:
    """Claim the next due email (step a). Returns (found a row, what to send or None)."""
    with transaction.atomic():
        row = (
            lock_skipping_taken(due(OutboxKind.EMAIL, now))
            .select_related("contact__account__owner", "enrollment")
            .first()
        )
        if row is None:
            return False, None
        contact = row.contact
        address = row.to_address or (contact.email if contact is not None else "")
        if contact is None or not address:
            _park(row, status=OutboxStatus.SUPPRESSED, reason="no_address")
            return True, None
        if consent.is_unsubscribed(contact):
            _park(row, status=OutboxStatus.SUPPRESSED, reason="unsubscribed")
            return True, None
        until = quiet_until(now, zone_of(contact), rules.quiet_hours_start, rules.quiet_hours_end)
        if until is not None:  # not a failure and not an attempt: it waits for the morning
            row.status = OutboxStatus.PENDING
            row.next_attempt_at = until
            row.save(update_fields=["status", "next_attempt_at"])
            return True, None
        if rules.weekly_email_cap:
            # The contact's row is the lock two workers meet on, so both cannot take the last slot.
            Contact.objects.select_for_update().filter(pk=contact.pk).first()
            if sent_recently(contact, now, excluding=row.pk) >= rules.weekly_email_cap:
                _park(row, status=OutboxStatus.SUPPRESSED, reason="capped")
                return True, None
        if row.attempts >= len(BACKOFF) + 1:
            _park(row, status=OutboxStatus.FAILED, error=row.last_error or "gave up after repeated attempts")
            return True, None
        enrollment = row.enrollment
        try:
            if survey_steps.survey_key(row.payload):
                rendered = _survey_email(row, contact, now)
            else:
                rendered = rendering.render(
                    definitions.get(enrollment.version_id),
                    str(row.payload.get("message", "")),
                    account=contact.account,
                    contact=contact,
                    entry_data=enrollment.entry_data,
                )
        except survey_steps.SurveySkipped as skipped:
            _park(row, status=OutboxStatus.SUPPRESSED, reason=skipped.reason)
            return True, None
        except ValidationError as error:
            _park(row, status=OutboxStatus.FAILED, error="; ".join(error.messages))
            return True, None
        row.message_id = row.message_id or message_id_for(row)
        row.to_address = address
        row.language = rendered.language
        row.status = OutboxStatus.SENDING
        row.attempts += 1
        row.next_attempt_at = now + lease
        sender = rules.from_address or settings.DEFAULT_FROM_EMAIL
        try:
            message = build_email(
                row,
                rendered,
                sender=sender,
                to=address,
                unsubscribe=consent.unsubscribe_url(contact),
                track=rules.track_opens_and_clicks,
            )
        except (ValueError, UnicodeError) as error:  # an address Python's email package refuses
            _park(row, status=OutboxStatus.FAILED, error=str(error))
            return True, None
        row.save(
            update_fields=["message_id", "to_address", "language", "status", "attempts", "next_attempt_at"]
        )
        return True, Claim(
            row_id=row.pk,
            attempts=row.attempts,
            sender=sender,
            to=address,
            message=message,
            message_id=row.message_id,
            now=now,
        )


def _survey_email(row: OutboxRow, contact: Contact, now: datetime) -> rendering.Rendered:
    """A survey step's email, from the app that provides surveys (journeys/survey_steps.py)."""
    provider = survey_steps.survey_provider()
    if provider is None:
        raise survey_steps.SurveySkipped("no_surveys")
    message = provider.message(row=row, account=contact.account, contact=contact, now=now)
    return rendering.Rendered(
        subject=" ".join(message.subject.split()),
        text=message.text,
        html=message.html,
        language=message.language,
    )


def _ours(claim: Claim, status: str) -> QuerySet[OutboxRow]:
    return OutboxRow.objects.filter(pk=claim.row_id, status=status, attempts=claim.attempts)


def _retry_or_fail(claim: Claim, *, from_status: str, error: str, temporary: bool) -> None:
    wait = backoff_after(claim.attempts) if temporary else None
    with transaction.atomic():
        if wait is None:
            _ours(claim, from_status).update(
                status=OutboxStatus.FAILED, last_error=error[:2000], sent_at=None
            )
        else:
            _ours(claim, from_status).update(
                status=OutboxStatus.PENDING,
                next_attempt_at=claim.now + wait,
                last_error=error[:2000],
                sent_at=None,
            )


def _deliver(claim: Claim, smtp: Connection, guardian: Guardian | None = None) -> bool:
    """Steps b, c and d for one claimed email; True when the server took it."""
    try:
        smtp.prepare(sender=claim.sender, recipients=[claim.to], message=claim.message)
    except SMTPRefused as refused:
        _retry_or_fail(
            claim, from_status=OutboxStatus.SENDING, error=str(refused), temporary=refused.temporary
        )
        return False
    except (OSError, smtplib.SMTPException) as error:
        smtp.abort()
        _retry_or_fail(claim, from_status=OutboxStatus.SENDING, error=f"SMTP: {error}", temporary=True)
        return False
    sock = smtp.plain_socket
    held = (
        guardian is not None
        and sock is not None
        and guardian.hold(sock, row_id=claim.row_id, attempts=claim.attempts)
    )
    try:
        return _commit_then_dot(claim, smtp)
    finally:
        if held and guardian is not None:
            guardian.release()


def _commit_then_dot(claim: Claim, smtp: Connection) -> bool:
    # (c) The commit that decides: from here on the message counts as sent.
    with transaction.atomic():
        ours = _ours(claim, OutboxStatus.SENDING).update(
            status=OutboxStatus.SENT, sent_at=claim.now, last_error=""
        )
    if not ours:
        smtp.abort()  # our lease ran out and another worker has the row: no dot, no second copy
        return False
    # (d) The dot, right after the commit.
    try:
        smtp.send_dot()
    except (OSError, smtplib.SMTPException) as error:
        # The dot never left: the server dropped the message; it is safe to send again.
        smtp.abort()
        _retry_or_fail(claim, from_status=OutboxStatus.SENT, error=f"SMTP: {error}", temporary=True)
        return False
    try:
        smtp.read_reply()
    except SMTPRefused as refused:
        _retry_or_fail(claim, from_status=OutboxStatus.SENT, error=str(refused), temporary=refused.temporary)
        return False
    except (OSError, smtplib.SMTPException) as error:
        smtp.abort()  # the dot left; the server most likely has it: it stays sent (never twice)
        OutboxRow.objects.filter(pk=claim.row_id).update(last_error=f"no reply after the message: {error}")
        return True
    return True


def settle_orphan(sock: socket.socket, *, row_id: int, attempts: int) -> None:
    """The guardian's work (journeys/guardian.py) once the worker holding this message died.

    The row lock waits for the dead worker's transaction to end (PostgreSQL commits or rolls it
    back when the connection drops), so the answer read here is final.
    """
    with transaction.atomic():
        row = OutboxRow.objects.select_for_update().filter(pk=row_id).first()
        committed = row is not None and row.status == OutboxStatus.SENT and row.attempts == attempts
    if not committed:
        sock.close()  # no dot: the server discards the message; the row is claimed again later
        return
    try:
        sock.sendall(b".\r\n")
        code, text = smtp_read_reply(sock)
    except OSError as error:
        logger.warning("Journey email %s: the worker died and its dot could not be sent: %s", row_id, error)
        return
    finally:
        sock.close()
    # 500/502: the dead worker's own dot had already ended DATA ("." is then an unknown command).
    if code != 250 and code not in (500, 502):
        claim = Claim(row_id, attempts, "", "", b"", "", timezone.now())
        _retry_or_fail(
            claim,
            from_status=OutboxStatus.SENT,
            error=f"end of DATA: {code} {text}",
            temporary=400 <= code < 500,
        )


_GUARDIAN = Guardian()


def close_guardian() -> None:
    """Let this process's guardian go (it exits); the next guarded send starts a new one."""
    _GUARDIAN.close()


def send_emails(
    *, now: datetime | None = None, limit: int = 50, lease: timedelta | None = None, guard: bool = False
) -> int:
    """Send up to `limit` due journey emails; returns how many the SMTP server took.

    `guard`: use the guardian process (journeys/guardian.py) that finishes a message whose worker
    was killed between the commit and the dot. Workers and `touchpoint journey_send` use it.
    """
    rules = DeliverySettings.load()
    definitions = Definitions()
    smtp = Connection()
    sent = 0
    try:
        for _ in range(limit):
            moment = now or timezone.now()
            found, claim = _claim_email(moment, lease or LEASE, rules, definitions)
            if not found:
                break
            if claim is not None and _deliver(claim, smtp, _GUARDIAN if guard else None):
                sent += 1
    finally:
        smtp.close()
    return sent


def send_due(
    *, now: datetime | None = None, limit: int = 50, lease: timedelta | None = None, guard: bool = False
) -> int:
    """Send what is due in the outbox: emails, then webhooks. Returns how many were handed over."""
    from touchpoint.journeys import webhooks

    sent = send_emails(now=now, limit=limit, lease=lease, guard=guard)
    sent += webhooks.send_webhooks(now=now, limit=limit, lease=lease)
    return sent


def poll() -> None:
    """The worker's poller: what is due now."""
    send_due(guard=True)


def register() -> None:
    from touchpoint.scheduler.registry import register_poller

    register_poller("journeys.send", every=2.0, run=poll)
