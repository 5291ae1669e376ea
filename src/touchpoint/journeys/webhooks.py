"""Outbound webhooks of journeys: a signed JSON POST to the URL an admin configured.

The body:

    {"type": "journey.step", "id": 812, "created": 1767312000,
     "data": {"journey": "onboarding", "step": "notify-crm", "enrollment": 77,
              "account": {"id": 7, "name": "Acme", "external_id": "acc-7"},
              "contact": {"id": 31, "name": "Ann Lee", "email": "ann@acme.example"} | null}}

`id` is the outbox row's id: the same at every retry, so a receiver can drop a repeat. Delivery is at
least once (a worker killed after the receiver answered but before the commit sends again).

Signed as Stripe signs: the header `Touchpoint-Signature: t=<unix time>,v1=<hex>` where `<hex>` is
HMAC-SHA256 with the endpoint's secret over `"<t>.<body>"`. A receiver recomputes it, compares in
constant time and refuses a timestamp older than five minutes (`verify_signature` does all three).

A 2xx answer within 10 seconds is success; anything else (another status, a redirect, a time-out, a
refused connection) is retried after 1 minute, 5, 30, 2 hours and 12 hours, then the row is parked
as FAILED with the last error. Only the configured URL is contacted: no redirects are followed and no
proxy from the environment is used. Each row is its own transactions, each endpoint's rows go out in
their own thread, and an endpoint that fails stops being tried for the rest of the pass: one slow or
broken receiver delays only its own rows.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time as clock
import urllib.error
import urllib.request
from collections import defaultdict
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from django.db import connection, connections, transaction
from django.utils import timezone

from touchpoint.journeys.delivery import LEASE, backoff_after, due, lock_skipping_taken
from touchpoint.journeys.models import OutboxKind, OutboxRow, OutboxStatus, WebhookEndpoint

HEADER = "Touchpoint-Signature"
TIMEOUT_SECONDS = 10
MAX_THREADS = 4


def sign(secret: str, body: bytes, *, at: int | None = None) -> str:
    """The signature header's value for `body` sent at unix time `at` (now by default)."""
    timestamp = int(clock.time()) if at is None else at
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_signature(
    secret: str, header: str, body: bytes | str, tolerance: int = 300, *, now: int | None = None
) -> bool:
    """Whether `header` (Touchpoint-Signature) signs `body` with `secret`, made within `tolerance` s."""
    if isinstance(body, str):
        body = body.encode()
    timestamp: int | None = None
    signatures: list[str] = []
    for part in (header or "").split(","):
        key, _sep, value = part.strip().partition("=")
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                return False
        elif key == "v1":
            signatures.append(value)
    if timestamp is None or not signatures:
        return False
    current = int(clock.time()) if now is None else now
    if abs(current - timestamp) > tolerance:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, candidate) for candidate in signatures)


def body_of(row: OutboxRow) -> bytes:
    """The JSON the row posts (stable for the row: the same bytes at every retry)."""
    account = row.account
    contact = row.contact
    document: dict[str, Any] = {
        "type": str(row.payload.get("event") or "journey.step"),
        "id": row.pk,
        "created": int(row.created_at.timestamp()),
        "data": {
            "journey": row.enrollment.journey.key,
            "step": row.step_id,
            "enrollment": row.enrollment_id,
            "account": {"id": account.pk, "name": account.name, "external_id": account.external_id},
            "contact": (
                {"id": contact.pk, "name": contact.name, "email": contact.email}
                if contact is not None
                else None
            ),
        },
    }
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # a 3xx is an answer (a failure), not a new address to call


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects())


def post(url: str, body: bytes, signature: str) -> tuple[bool, str]:
    """POST once; (success, what went wrong)."""
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "Touchpoint-Webhooks/1",
            HEADER: signature,
        },
    )
    try:
        with _OPENER.open(request, timeout=TIMEOUT_SECONDS) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        return False, f"HTTP {error.code}"
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        return False, f"could not reach {url}: {reason}"
    if 200 <= status < 300:
        return True, ""
    return False, f"HTTP {status}"


@dataclass(frozen=True)
class _Claim:
    row_id: int
    attempts: int
    url: str
    secret: str
    body: bytes


def _claim(row_id: int, now: datetime, lease: timedelta) -> _Claim | None:
    with transaction.atomic():
        row = (
            lock_skipping_taken(
                OutboxRow.objects.filter(
                    pk=row_id,
                    kind=OutboxKind.WEBHOOK,
                    status__in=[OutboxStatus.PENDING, OutboxStatus.SENDING],
                    next_attempt_at__lte=now,
                )
            )
            .select_related("account", "contact", "enrollment__journey")
            .first()
        )
        if row is None:
            return None  # another worker has it, or it moved on
        name = str(row.payload.get("endpoint", ""))
        endpoint = WebhookEndpoint.objects.filter(name=name).first()
        if endpoint is None or not endpoint.is_active:
            row.status = OutboxStatus.FAILED
            row.last_error = (
                f"webhook endpoint '{name}' does not exist"
                if endpoint is None
                else f"webhook endpoint '{name}' is switched off"
            )
            row.save(update_fields=["status", "last_error"])
            return None
        if row.attempts > 0 and row.status == OutboxStatus.SENDING and backoff_after(row.attempts) is None:
            row.status = OutboxStatus.FAILED  # killed mid-post at every attempt: park it
            row.save(update_fields=["status"])
            return None
        row.status = OutboxStatus.SENDING
        row.attempts += 1
        row.next_attempt_at = now + lease
        row.save(update_fields=["status", "attempts", "next_attempt_at"])
        return _Claim(row.pk, row.attempts, endpoint.url, endpoint.secret, body_of(row))


def _settle(claim: _Claim, *, ok: bool, error: str, now: datetime) -> None:
    ours = OutboxRow.objects.filter(pk=claim.row_id, status=OutboxStatus.SENDING, attempts=claim.attempts)
    with transaction.atomic():
        if ok:
            ours.update(status=OutboxStatus.SENT, sent_at=timezone.now(), last_error="")
            return
        wait = backoff_after(claim.attempts)
        if wait is None:
            ours.update(
                status=OutboxStatus.FAILED, last_error=f"parked after {claim.attempts} attempts: {error}"
            )
        else:
            ours.update(status=OutboxStatus.PENDING, next_attempt_at=now + wait, last_error=error)


def _send_for_endpoint(row_ids: list[int], now: datetime, lease: timedelta, own_connection: bool) -> int:
    """One endpoint's due rows, in order, until one fails (the rest wait for the next pass)."""
    sent = 0
    try:
        for row_id in row_ids:
            claim = _claim(row_id, now, lease)
            if claim is None:
                continue
            ok, error = post(claim.url, claim.body, sign(claim.secret, claim.body))
            _settle(claim, ok=ok, error=error, now=now)
            if not ok:
                break
            sent += 1
    finally:
        if own_connection:
            connections.close_all()  # this thread's connections
    return sent


def send_webhooks(*, now: datetime | None = None, limit: int = 50, lease: timedelta | None = None) -> int:
    """Post up to `limit` due webhook rows; returns how many got a 2xx."""
    moment = now or timezone.now()
    by_endpoint: Mapping[str, list[int]] = defaultdict(list)
    for row_id, payload in due(OutboxKind.WEBHOOK, moment).values_list("id", "payload")[:limit]:
        by_endpoint[str((payload or {}).get("endpoint", ""))].append(row_id)
    if not by_endpoint:
        return 0
    groups = list(by_endpoint.values())
    in_memory = connection.vendor == "sqlite" and cast(Any, connection).is_in_memory_db()
    if len(groups) == 1 or connection.in_atomic_block or in_memory:
        # Inside a caller's transaction other threads could not see its rows, and an in-memory SQLite
        # database (tests) locks whole tables between threads: one endpoint after the other then.
        return sum(_send_for_endpoint(ids, moment, lease or LEASE, False) for ids in groups)
    with ThreadPoolExecutor(max_workers=min(MAX_THREADS, len(groups))) as pool:
        results = pool.map(lambda ids: _send_for_endpoint(ids, moment, lease or LEASE, True), groups)
        return sum(results)
