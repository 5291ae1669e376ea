"""Rate limits on the API (/api/v1/) and the tracking endpoints (/v1/): a fixed one-minute window per caller.

The caller is the API key (`Authorization: Bearer tp_<lookup>_…`), the source's write key (HTTP Basic,
as Segment clients send it) or, without either, the client address (touchpoint.users.access.client_ip).
A process counts its caller's requests in blocks (`block_for`: a hundredth of the limit, one under a
limit of 200) with a single UPSERT each (INSERT … ON CONFLICT … DO UPDATE … RETURNING, on SQLite and
PostgreSQL alike), so every web process and every machine sharing the database counts together,
without a cache service, and a high limit does not cost a write per request. Past the limit the
answer is 429 with Retry-After (seconds to the next minute) and a JSON body naming the limit.

Limits (requests per minute; 0 turns one off): TOUCHPOINT_API_RATE_LIMIT per API key,
TOUCHPOINT_TRACKING_RATE_LIMIT per write key, TOUCHPOINT_ANONYMOUS_RATE_LIMIT per address.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import OperationalError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from touchpoint.users.access import client_ip
from touchpoint.users.models import API_KEY_PREFIX, RateLimitWindow

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60
# The API's description and its docs page: no data, and what a client reads first.
UNLIMITED = frozenset({"/api/v1/openapi.json", "/api/v1/docs"})


@dataclass(frozen=True)
class Limit:
    bucket: str
    per_minute: int
    setting: str
    tracking: bool


def limit_for(request: HttpRequest) -> Limit | None:
    """Which counter a request adds to, and its limit; None for paths without a limit."""
    path = request.path_info
    tracking = path.startswith("/v1/")
    if not tracking and (not path.startswith("/api/v1/") or path in UNLIMITED):
        return None
    header = request.headers.get("Authorization", "")
    if not tracking and header[:7].lower() == "bearer ":
        parts = header[7:].strip().split("_", 2)
        if len(parts) == 3 and parts[0] == API_KEY_PREFIX and parts[1]:
            return Limit(
                f"key:{parts[1][:32]}", settings.TOUCHPOINT_API_RATE_LIMIT, "TOUCHPOINT_API_RATE_LIMIT", False
            )
    if tracking and header[:6].lower() == "basic ":
        try:
            write_key = base64.b64decode(header[6:].strip()).decode("utf-8").split(":", 1)[0]
        except (binascii.Error, UnicodeDecodeError):
            write_key = ""
        if write_key:
            digest = hashlib.sha256(write_key.encode()).hexdigest()[:32]
            return Limit(
                f"src:{digest}",
                settings.TOUCHPOINT_TRACKING_RATE_LIMIT,
                "TOUCHPOINT_TRACKING_RATE_LIMIT",
                True,
            )
    if tracking:
        # A write key in the body (or none): counted per address, at the tracking limit.
        return Limit(
            f"ip:{client_ip(request)[:60]}",
            settings.TOUCHPOINT_TRACKING_RATE_LIMIT,
            "TOUCHPOINT_TRACKING_RATE_LIMIT",
            True,
        )
    return Limit(
        f"ip:{client_ip(request)[:60]}",
        settings.TOUCHPOINT_ANONYMOUS_RATE_LIMIT,
        "TOUCHPOINT_ANONYMOUS_RATE_LIMIT",
        False,
    )


def count_request(bucket: str, window: int, *, block: int = 1) -> int:
    """Add `block` to `bucket`'s count for `window` (minutes since 1970) and return the new count: one
    statement."""
    table = connection.ops.quote_name(RateLimitWindow._meta.db_table)
    window_column = connection.ops.quote_name("window")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (bucket, {window_column}, count) VALUES (%s, %s, %s) "
            f"ON CONFLICT (bucket, {window_column}) DO UPDATE SET count = {table}.count + %s RETURNING count",
            [bucket, window, block, block],
        )
        count = int(cursor.fetchone()[0])
    if count == block:
        # The caller's first request of a new minute: forget minutes that can no longer matter.
        RateLimitWindow.objects.filter(window__lt=window - 1).delete()
    return count


def block_for(per_minute: int) -> int:
    """How many requests a process counts at once: a hundredth of the limit (one for limits under 200).

    A high limit (the tracking API's 12,000 a minute) would otherwise cost a database write on every
    request; with blocks, a process writes once per block and answers the rest from memory. What a
    process has counted and not used yet still counts, so with N processes the limit may refuse up to
    N blocks early (a few percent), never let more through than it says."""
    return max(1, per_minute // 100)


class _Blocks:
    """This process's counted-but-unused positions, per (bucket, window): (next position, block's last)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[tuple[str, int], tuple[int, int]] = {}

    def position(self, bucket: str, window: int, per_minute: int) -> int:
        """The request's position in its caller's count for the minute (counting a new block when due)."""
        key = (bucket, window)
        with self._lock:
            held = self._held.get(key)
            if held is not None and held[0] <= held[1]:
                self._held[key] = (held[0] + 1, held[1])
                return held[0]
        block = block_for(per_minute)
        last = count_request(bucket, window, block=block)
        with self._lock:
            if len(self._held) > 1000 or any(w < window for _b, w in self._held):
                self._held = {k: v for k, v in self._held.items() if k[1] >= window}
            self._held[key] = (last - block + 2, last)
        return last - block + 1


_BLOCKS = _Blocks()


class RateLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = limit_for(request)
        if limit is None or limit.per_minute <= 0:
            return self.get_response(request)
        now = time.time()
        window = int(now // WINDOW_SECONDS)
        try:
            count = _BLOCKS.position(limit.bucket, window, limit.per_minute)
        except OperationalError:
            # The database is busy (its write lock held past DB_LOCK_TIMEOUT): the limiter lets the
            # request through uncounted, and the request's own write says so (the tracking API
            # answers 503 + Retry-After). A limiter must never be what takes ingestion down.
            logger.warning("rate limit not counted: the database is busy", exc_info=True)
            return self.get_response(request)
        if count <= limit.per_minute:
            return self.get_response(request)
        retry_after = max(int((window + 1) * WINDOW_SECONDS - now) + 1, 1)
        detail = _(
            "Too many requests: the limit is %(limit)d requests a minute (%(setting)s). Retry in %(seconds)d seconds."
        ) % {"limit": limit.per_minute, "setting": limit.setting, "seconds": retry_after}
        body: dict[str, object] = {
            "detail": detail,
            "errors": [{"field": "", "message": f"{limit.setting}={limit.per_minute}/minute"}],
        }
        if limit.tracking:
            body = {"success": False, **body}
        response = JsonResponse(body, status=429)
        response["Retry-After"] = str(retry_after)
        return response
