"""Tickets in from a help desk: the signature check and the reading of Zendesk's and Freshdesk's JSON.

A source posts to /support/webhooks/<key>/ with one of two signatures (docs/support.md):

- Zendesk's own: `X-Zendesk-Webhook-Signature` is base64 HMAC-SHA256 of `<timestamp><body>` with the
  webhook's signing secret, the timestamp in `X-Zendesk-Webhook-Signature-Timestamp`;
- Touchpoint's (any sender, or a relay in front of Freshdesk): `X-Touchpoint-Signature` is hex
  HMAC-SHA256 of `<timestamp>.<body>`, the unix timestamp in `X-Touchpoint-Timestamp`.

Both are compared in constant time and refused when the timestamp is more than five minutes away.
The body is read tolerantly: a `ticket` object (Zendesk's trigger JSON or its API's ticket), a
`freshdesk_webhook` object (Freshdesk's `ticket_*` placeholders) or the fields at the top level.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time as clock
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from dateutil import parser as date_parser
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from touchpoint.support.models import Channel, Priority, TicketStatus
from touchpoint.support.services import TicketData

TOLERANCE_SECONDS = 300
ZENDESK_SIGNATURE = "X-Zendesk-Webhook-Signature"
ZENDESK_TIMESTAMP = "X-Zendesk-Webhook-Signature-Timestamp"
TOUCHPOINT_SIGNATURE = "X-Touchpoint-Signature"
TOUCHPOINT_TIMESTAMP = "X-Touchpoint-Timestamp"


class SignatureError(Exception):
    pass


def _timestamp(value: str) -> float:
    value = value.strip()
    if re.fullmatch(r"\d{1,12}", value):
        return float(value)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise SignatureError(_("The signature timestamp is not a time.")) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def verify(secret: str, headers: Any, body: bytes, *, now: float | None = None) -> None:
    """Raise SignatureError unless `body` is signed with `secret` within the replay window."""
    now = clock.time() if now is None else now
    if headers.get(ZENDESK_SIGNATURE):
        stamp = headers.get(ZENDESK_TIMESTAMP, "")
        expected = base64.b64encode(
            hmac.new(secret.encode(), stamp.encode() + body, hashlib.sha256).digest()
        ).decode()
        given = headers.get(ZENDESK_SIGNATURE, "").strip()
    elif headers.get(TOUCHPOINT_SIGNATURE):
        stamp = headers.get(TOUCHPOINT_TIMESTAMP, "")
        expected = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        given = headers.get(TOUCHPOINT_SIGNATURE, "").strip().lower()
    else:
        raise SignatureError(_("The request is not signed."))
    if not stamp:
        raise SignatureError(_("The signature timestamp is missing."))
    if abs(now - _timestamp(stamp)) > TOLERANCE_SECONDS:
        raise SignatureError(
            _("The signature timestamp is more than five minutes away: a replay, or a clock off.")
        )
    if not hmac.compare_digest(expected.encode(), given.encode()):
        raise SignatureError(_("The signature does not match the body."))


def sign_touchpoint(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The headers a sender (a test, a relay) sends with `body`."""
    stamp = str(int(clock.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {TOUCHPOINT_TIMESTAMP: stamp, TOUCHPOINT_SIGNATURE: digest}


def sign_zendesk(secret: str, body: bytes, timestamp: str) -> dict[str, str]:
    digest = base64.b64encode(
        hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    ).decode()
    return {ZENDESK_TIMESTAMP: timestamp, ZENDESK_SIGNATURE: digest}


# --- reading the body ---------------------------------------------------------------------------------

PRIORITIES = {
    "urgent": Priority.URGENT,
    "high": Priority.HIGH,
    "normal": Priority.NORMAL,
    "medium": Priority.NORMAL,
    "low": Priority.LOW,
    # Freshdesk's API numbers
    "4": Priority.URGENT,
    "3": Priority.HIGH,
    "2": Priority.NORMAL,
    "1": Priority.LOW,
}
STATUSES = {
    "new": TicketStatus.NEW,
    "open": TicketStatus.OPEN,
    "pending": TicketStatus.PENDING,
    "hold": TicketStatus.HOLD,
    "onhold": TicketStatus.HOLD,
    "waitingoncustomer": TicketStatus.PENDING,
    "waitingonthirdparty": TicketStatus.HOLD,
    "solved": TicketStatus.SOLVED,
    "resolved": TicketStatus.SOLVED,
    "closed": TicketStatus.CLOSED,
    # Freshdesk's API numbers
    "2": TicketStatus.OPEN,
    "3": TicketStatus.PENDING,
    "4": TicketStatus.SOLVED,
    "5": TicketStatus.CLOSED,
}
CHANNELS = {
    "email": Channel.EMAIL,
    "mail": Channel.EMAIL,
    "web": Channel.WEB,
    "webform": Channel.WEB,
    "portal": Channel.WEB,
    "feedbackwidget": Channel.WEB,
    "phone": Channel.PHONE,
    "voice": Channel.PHONE,
    "phonecallincoming": Channel.PHONE,
    "chat": Channel.CHAT,
    "messaging": Channel.CHAT,
    "api": Channel.API,
    # Freshdesk's API numbers: 1 email, 2 portal, 3 phone, 7 chat
    "1": Channel.EMAIL,
    "2": Channel.WEB,
    "3": Channel.PHONE,
    "7": Channel.CHAT,
}


def _key(value: Any) -> str:
    return re.sub(r"[\W_]+", "", str(value).lower())


def _map(value: Any, table: Mapping[str, str], field: str, default: str | None = None) -> str:
    if value in (None, ""):
        if default is not None:
            return default
        raise ValidationError({field: _("Required, but empty.")})
    found = table.get(_key(value))
    if found is None:
        if default is not None and field.endswith("channel"):
            return default
        raise ValidationError(
            {field: _("“%(value)s” is not a value Touchpoint knows.") % {"value": str(value)[:50]}}
        )
    return found


def _moment(value: Any, field: str) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise ValidationError({field: _("Not a time.")}) from None
    if not isinstance(value, str) or len(value) > 64:
        raise ValidationError({field: _("Not a time.")})
    try:
        moment = date_parser.parse(value.replace(" at ", " "))
    except (ValueError, OverflowError):
        raise ValidationError({field: _("“%(value)s” is not a time.") % {"value": value}}) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _pick(ticket: dict, *names: str) -> Any:
    for name in names:
        for key in (name, f"ticket_{name}"):
            if key in ticket and ticket[key] not in (None, ""):
                return ticket[key]
    return None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        return _text(value.get("name") or value.get("email") or "")
    return str(value)[:1000]


def ticket_object(body: Any) -> dict:
    if not isinstance(body, dict):
        raise ValidationError({"": _("Expected a JSON object.")})
    for wrapper in ("ticket", "freshdesk_webhook"):
        if isinstance(body.get(wrapper), dict):
            return body[wrapper]
    return body


def read_ticket(body: Any, *, source: str) -> tuple[TicketData, dict[str, str]]:
    """The ticket the JSON describes, and how to find its account (organization id and name, email)."""
    ticket = ticket_object(body)
    prefix = "ticket."
    identifier = _pick(ticket, "id", "external_id")
    if identifier is None or isinstance(identifier, dict | list) or len(str(identifier)) > 128:
        raise ValidationError({prefix + "id": _("The ticket's id is missing.")})
    requester = _pick(ticket, "requester", "contact")
    email = _pick(ticket, "requester_email", "contact_email", "email")
    name = _pick(ticket, "requester_name", "contact_name")
    if isinstance(requester, dict):
        email = email or requester.get("email")
        name = name or requester.get("name")
    elif isinstance(requester, str) and "@" in requester:
        email = email or requester
    organization = _pick(ticket, "organization", "company")
    org_name = _pick(ticket, "organization_name", "company_name")
    org_id = _pick(ticket, "organization_external_id", "company_external_id")
    if isinstance(organization, dict):
        org_name = org_name or organization.get("name")
        org_id = org_id or organization.get("external_id")
    elif isinstance(organization, str):
        org_name = org_name or organization
    via = _pick(ticket, "channel", "via", "source")
    if isinstance(via, dict):
        via = via.get("channel")
    assignee = _pick(ticket, "assignee", "agent", "responder", "assignee_name", "agent_name")
    opened = _moment(_pick(ticket, "created_at", "created_on", "created"), prefix + "created_at")
    if opened is None:
        raise ValidationError({prefix + "created_at": _("The ticket's creation time is missing.")})
    data = TicketData(
        subject=_text(_pick(ticket, "subject", "title")) or _("(no subject)"),
        opened_at=opened,
        updated_at=_moment(_pick(ticket, "updated_at", "updated_on", "updated"), prefix + "updated_at"),
        priority=_map(_pick(ticket, "priority"), PRIORITIES, prefix + "priority", default=Priority.NORMAL),
        status=_map(_pick(ticket, "status"), STATUSES, prefix + "status"),
        channel=_map(via, CHANNELS, prefix + "channel", default=Channel.OTHER),
        source=source,
        external_id=str(identifier),
        requester_name=_text(name)[:200],
        requester_email=_text(email)[:254],
        assignee=_text(assignee)[:200],
        first_reply_at=_moment(
            _pick(ticket, "first_reply_at", "first_responded_at"), prefix + "first_reply_at"
        ),
        last_reply_at=_moment(
            _pick(ticket, "last_reply_at", "agent_replied_at", "agent_responded_at"), prefix + "last_reply_at"
        ),
        awaiting_reply_since=_moment(
            _pick(ticket, "awaiting_reply_since", "customer_replied_at", "requester_updated_at"),
            prefix + "awaiting_reply_since",
        ),
        solved_at=_moment(_pick(ticket, "solved_at", "resolved_at"), prefix + "solved_at"),
    )
    return data, {
        "organization_id": _text(org_id)[:128],
        "organization": _text(org_name)[:200],
        "email": _text(email)[:254],
    }
