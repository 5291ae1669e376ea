"""Reading Segment-spec messages (identify, group, track, page, screen, alias): pure functions, no database.

https://segment.com/docs/connections/spec/ describes the fields. We accept what Segment's own HTTP
Tracking API accepts and name the field when we do not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson
from django.utils.translation import gettext as _

MAX_EVENT_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500 * 1024
MESSAGE_TYPES = ("identify", "group", "track", "page", "screen", "alias")
_ID_LIMIT = 255
# Ids that become an account's or a contact's external ID (group, identify, alias calls) fit its column.
_EXTERNAL_ID_LIMIT = 128
# "\u0000" in JSON text, but not an escaped backslash followed by "u0000".
_NUL_IN_JSON = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


class MessageError(ValueError):
    """A message that cannot be taken, with the field at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Message:
    type: str
    message_id: str
    timestamp: datetime  # corrected for the client's clock
    user_id: str = ""
    anonymous_id: str = ""
    group_id: str = ""
    previous_id: str = ""
    event: str = ""
    properties: dict[str, Any] = field(default_factory=dict)
    traits: dict[str, Any] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)


def parse_time(value: Any, field_name: str) -> datetime | None:
    """An ISO-8601 time with a zone; None when absent."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise MessageError(field_name, _("Give an ISO-8601 date and time."))
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise MessageError(field_name, _("Give an ISO-8601 date and time.")) from None
    if moment.tzinfo is None:
        raise MessageError(field_name, _("Give the time with its time zone (e.g. 2026-05-01T10:00:00Z)."))
    return moment


def corrected_timestamp(
    *, timestamp: datetime | None, sent_at: datetime | None, received_at: datetime
) -> datetime:
    """When the event happened, by the server's clock.

    As Segment does: a client whose clock is off sends both `timestamp` and `sentAt` from that same
    clock, so the event happened (sentAt - timestamp) before the server received the message.
    """
    if timestamp is None:
        return received_at
    if sent_at is None:
        return timestamp
    return received_at - (sent_at - timestamp)


def _identifier(payload: dict, key: str) -> str:
    value = payload.get(key)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise MessageError(key, _("Give a string."))
    text = str(value).strip()
    if "\x00" in text:
        raise MessageError(key, _("Null characters are not allowed."))
    if len(text) > _ID_LIMIT:
        raise MessageError(key, _("Use at most %(limit)d characters.") % {"limit": _ID_LIMIT})
    return text


def _object(payload: dict, key: str) -> dict:
    value = payload.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MessageError(key, _("Give a JSON object."))
    return value


def _storable(value: dict, key: str) -> dict:
    """The object, if it can be stored as JSON on both databases; else the message is refused, not the batch."""
    try:
        encoded = orjson.dumps(value)
    except orjson.JSONEncodeError:
        # orjson writes at most 255 levels of nesting and integers within 64 bits.
        raise MessageError(
            key, _("Nested too deeply (more than 255 levels) or holds an integer too large to store.")
        ) from None
    if _NUL_IN_JSON.search(encoded):  # PostgreSQL cannot store NUL in text or JSON
        raise MessageError(key, _("Null characters are not allowed."))
    return value


def parse_message(
    payload: Any,
    *,
    received_at: datetime,
    default_type: str | None = None,
    batch_sent_at: datetime | None = None,
) -> Message:
    """One message from its JSON form; raises MessageError naming the field at fault."""
    if not isinstance(payload, dict):
        raise MessageError("", _("Each message must be a JSON object."))
    kind = payload.get("type", default_type)
    if kind not in MESSAGE_TYPES:
        raise MessageError("type", _("Give one of: %(types)s.") % {"types": ", ".join(MESSAGE_TYPES)})
    message_id = _identifier(payload, "messageId")
    if not message_id:
        raise MessageError("messageId", _("Every message needs a messageId (Segment's libraries send one)."))
    user_id = _identifier(payload, "userId")
    anonymous_id = _identifier(payload, "anonymousId")
    if kind != "alias" and not user_id and not anonymous_id:
        raise MessageError("userId", _("Give a userId or an anonymousId."))
    timestamp = parse_time(payload.get("timestamp") or payload.get("originalTimestamp"), "timestamp")
    sent_at = parse_time(payload.get("sentAt"), "sentAt") or batch_sent_at
    context = _storable(_object(payload, "context"), "context")
    try:
        moment = corrected_timestamp(timestamp=timestamp, sent_at=sent_at, received_at=received_at)
    except OverflowError:  # e.g. sentAt in year 9999 moves the event before year 1
        raise MessageError(
            "sentAt" if sent_at is not None else "timestamp", _("The time is more than ten years from now.")
        ) from None
    message = Message(
        type=kind,
        message_id=message_id,
        timestamp=moment,
        user_id=user_id,
        anonymous_id=anonymous_id,
        group_id=_identifier(payload, "groupId") or _identifier(context, "groupId"),
        previous_id=_identifier(payload, "previousId"),
        event=_event_name(payload, kind),
        properties=_storable(_object(payload, "properties"), "properties"),
        traits=_storable(_object(payload, "traits"), "traits") or _object(context, "traits"),
        context=context,
    )
    for field_name, value in (("userId", message.user_id), ("groupId", message.group_id)):
        if kind in ("identify", "group", "alias") and len(value) > _EXTERNAL_ID_LIMIT:
            raise MessageError(
                field_name, _("Use at most %(limit)d characters.") % {"limit": _EXTERNAL_ID_LIMIT}
            )
    if kind == "track" and not message.event:
        raise MessageError("event", _("A track call needs the event name."))
    if kind == "group" and not message.group_id:
        raise MessageError("groupId", _("A group call needs a groupId."))
    if kind == "alias" and (not message.previous_id or not message.user_id):
        field_name = "previousId" if not message.previous_id else "userId"
        raise MessageError(field_name, _("An alias call needs both previousId and userId."))
    if abs(message.timestamp - received_at) > timedelta(days=3650):
        raise MessageError("timestamp", _("The time is more than ten years from now."))
    return message


def _event_name(payload: dict, kind: str) -> str:
    if kind == "track":
        name = payload.get("event")
    elif kind in ("page", "screen"):
        name = payload.get("name") or _object(payload, "properties").get("name") or ""
    else:
        return ""
    if name is None:
        return ""
    if not isinstance(name, str):
        raise MessageError("event" if kind == "track" else "name", _("Give a string."))
    name = name.strip()
    if "\x00" in name:
        raise MessageError("event" if kind == "track" else "name", _("Null characters are not allowed."))
    if len(name) > 200:
        raise MessageError("event" if kind == "track" else "name", _("Use at most 200 characters."))
    return name
