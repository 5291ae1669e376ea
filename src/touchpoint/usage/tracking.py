"""The Segment-compatible tracking API at the site root: /v1/batch, /v1/track, /v1/identify …

Existing Segment and RudderStack clients work by changing only the host and the write key. The write
key comes as HTTP Basic user name (as the clients send it) or as `writeKey` in the body. A 200 means
every accepted event is committed.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import io
import threading
import time
import zlib

import orjson
from django.conf import settings
from django.db import OperationalError
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from touchpoint.usage import rollups, selectors, services
from touchpoint.usage.models import Source
from touchpoint.usage.segment import MAX_BATCH_BYTES, MAX_EVENT_BYTES, MessageError, parse_time
from touchpoint.usage.signals import batch_ingested


def _error(status: int, detail: str, field: str = "", message: str = "") -> JsonResponse:
    errors = [{"field": field, "message": message or detail}] if (field or message) else []
    return JsonResponse({"success": False, "detail": detail, "errors": errors}, status=status)


class _BodyError(Exception):
    def __init__(self, response: JsonResponse) -> None:
        self.response = response


def _read_body(request: HttpRequest, limit: int) -> bytes:
    """The request body, un-gzipped, refusing more than `limit` bytes (even inside a small gzip)."""
    raw = request.body
    if request.headers.get("Content-Encoding", "").lower() == "gzip":
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(raw)) as stream:
                raw = stream.read(limit + 1)
        except (OSError, EOFError, zlib.error):
            raise _BodyError(_error(400, _("The body says it is gzip but is not valid gzip."))) from None
    if len(raw) > limit:
        raise _BodyError(_error(413, _("The body is larger than %(kb)d KB.") % {"kb": limit // 1024}))
    return raw


def _too_large(payload: object) -> bool:
    try:
        return len(orjson.dumps(payload)) > MAX_EVENT_BYTES
    except orjson.JSONEncodeError:
        return False  # too deep to write back: parsing the message refuses it, naming the field


def _source(request: HttpRequest, body: dict) -> Source | None:
    write_key = ""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("basic "):
        try:
            write_key = base64.b64decode(header[6:].strip()).decode("utf-8").split(":", 1)[0]
        except (binascii.Error, UnicodeDecodeError):
            write_key = ""
    if not write_key and isinstance(body.get("writeKey"), str):
        write_key = body["writeKey"]
    if not write_key:
        return None
    return selectors.active_source(write_key)


# The backlog is read at most once a second per web process: a read per batch would cost every
# request, and a second's more growth past the limit is harmless.
BACKLOG_CHECK_SECONDS = 1.0
_backlog_seen: list[float] = [float("-inf"), 0.0]  # [when read (monotonic), events waiting]
_backlog_lock = threading.Lock()


def _backlog_events() -> int:
    now = time.monotonic()
    with _backlog_lock:
        if now - _backlog_seen[0] < BACKLOG_CHECK_SECONDS:
            return int(_backlog_seen[1])
    events, _oldest = rollups.backlog()
    with _backlog_lock:
        _backlog_seen[0], _backlog_seen[1] = now, events
    return events


def _over_backlog() -> JsonResponse | None:
    """A 503 when the events waiting for the rollups pass TOUCHPOINT_INGEST_BACKLOG_LIMIT (0: no limit)."""
    limit = settings.TOUCHPOINT_INGEST_BACKLOG_LIMIT
    if limit <= 0:
        return None
    try:
        waiting = _backlog_events()
    except OperationalError:
        return None  # the database is busy: the write says so itself
    if waiting < limit:
        return None
    response = _error(
        503,
        _(
            "The server is %(waiting)d events behind (the limit is %(limit)d); nothing was stored. Retry shortly."
        )
        % {"waiting": waiting, "limit": limit},
        message=f"TOUCHPOINT_INGEST_BACKLOG_LIMIT={limit}",
    )
    response["Retry-After"] = "5"
    return response


def _tracking_endpoint(message_type: str | None):
    """A view for one message type (or the batch endpoint when None)."""
    limit = MAX_BATCH_BYTES if message_type is None else MAX_EVENT_BYTES

    @csrf_exempt
    @require_POST
    def endpoint(request: HttpRequest) -> JsonResponse:
        received_at = timezone.now()
        try:
            raw = _read_body(request, limit)
        except _BodyError as error:
            return error.response
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            return _error(400, _("The request body is not valid JSON."), message=str(error))
        if not isinstance(body, dict):
            return _error(400, _("The request body must be a JSON object."))
        source = _source(request, body)
        if source is None:
            return _error(401, _("Unknown or missing write key: send it as the HTTP Basic user name."))
        if message_type is None:
            payloads = body.get("batch")
            if not isinstance(payloads, list):
                return _error(400, _("A batch needs a “batch” list of messages."), field="batch")
            try:
                batch_sent_at = parse_time(body.get("sentAt"), "sentAt")
            except MessageError as error:
                return _error(400, error.message, field=error.field)
        else:
            payloads, batch_sent_at = [body], None
        busy = _over_backlog()
        if busy is not None:
            return busy
        # No message can be larger than the body it came in, so most batches need no per-message size.
        oversized = (
            set() if len(raw) <= MAX_EVENT_BYTES else {i for i, p in enumerate(payloads) if _too_large(p)}
        )
        accepted_payloads = [p for i, p in enumerate(payloads) if i not in oversized]
        try:
            result = services.ingest(
                source=source,
                payloads=accepted_payloads,
                received_at=received_at,
                default_type=message_type,
                batch_sent_at=batch_sent_at,
            )
        except OperationalError:
            # The database is busy (SQLite's write lock held too long, PostgreSQL still deadlocking
            # after retries). Nothing was stored; Segment clients retry a 503 and messageIds keep
            # the retry from counting twice.
            response = _error(503, _("The server is busy; nothing was stored. Retry shortly."))
            response["Retry-After"] = "2"
            return response
        rejected = [r.as_json() for r in result.rejected]
        # Indexes in the answer point into the batch as sent, oversized messages included.
        kept_indexes = [i for i in range(len(payloads)) if i not in oversized]
        for item in rejected:
            item["index"] = kept_indexes[item["index"]]
        for index in sorted(oversized):
            payload = payloads[index]
            rejected.append(
                {
                    "index": index,
                    "messageId": str(payload.get("messageId", ""))[:255] if isinstance(payload, dict) else "",
                    "field": "",
                    "message": _("The message is larger than %(kb)d KB.") % {"kb": MAX_EVENT_BYTES // 1024},
                }
            )
        rejected.sort(key=lambda item: item["index"])
        batch_ingested.send(
            sender=None, accepted=result.accepted, duplicates=result.duplicates, rejected=len(rejected)
        )
        if rejected and result.accepted == 0 and result.duplicates == 0:
            status = 413 if message_type is not None and oversized else 400
            return JsonResponse(
                {
                    "success": False,
                    "detail": _("No message was accepted."),
                    "errors": [{"field": r["field"], "message": r["message"]} for r in rejected],
                    "rejected": rejected,
                },
                status=status,
            )
        answer: dict[str, object] = {
            "success": True,
            "accepted": result.accepted,
            "duplicates": result.duplicates,
        }
        if rejected:
            answer["rejected"] = rejected
        return JsonResponse(answer)

    return endpoint


batch = _tracking_endpoint(None)
track = _tracking_endpoint("track")
identify = _tracking_endpoint("identify")
group = _tracking_endpoint("group")
page = _tracking_endpoint("page")
screen = _tracking_endpoint("screen")
alias = _tracking_endpoint("alias")
