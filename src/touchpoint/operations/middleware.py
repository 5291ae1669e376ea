"""Request middleware of operations: request ids, request logs and metrics, and no-store caching.

RequestObservationMiddleware goes first in MIDDLEWARE (it times everything after it);
NoStoreMiddleware after AuthenticationMiddleware.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control

from touchpoint.operations import metrics

request_log = logging.getLogger("touchpoint.requests")
_request_id: ContextVar[str] = ContextVar("touchpoint_request_id", default="")
# A request id from the proxy (X-Request-ID) is kept when it looks like one; anything else is replaced.
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class RequestIdFilter(logging.Filter):
    """Puts the id of the request being answered (or "") on every log record, as `request_id`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = _request_id.get()
        return True


def route_of(request: HttpRequest) -> str:
    """The URL name of the view that answered (bounded, unlike paths), or "unmatched"."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    return match.view_name or match.route or "unnamed"


class RequestObservationMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get("X-Request-ID", "")
        request_id = given if _SANE_ID.match(given) else uuid.uuid4().hex
        token = _request_id.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            seconds = time.perf_counter() - started
            response["X-Request-ID"] = request_id
            route = route_of(request)
            metrics.observe_request(
                route=route, method=request.method or "", status=response.status_code, seconds=seconds
            )
            if request_log.isEnabledFor(logging.INFO):
                user = getattr(request, "user", None)
                user_id = user.pk if user is not None and user.is_authenticated else None
                request_log.info(
                    "%s %s %s %.1fms",
                    request.method,
                    request.path,
                    response.status_code,
                    seconds * 1000,
                    extra={
                        "method": request.method,
                        "path": request.path,
                        "route": route,
                        "status": response.status_code,
                        "duration_ms": round(seconds * 1000, 1),
                        "user_id": user_id,
                    },
                )
            return response
        finally:
            _request_id.reset(token)


class NoStoreMiddleware:
    """Cache-Control: no-store on every answer to a signed-in person and on every /api/ answer.

    Customer data must not stay in a browser's or a proxy's cache. Static files never get here
    (WhiteNoise answers them first); public pages answered to nobody signed in keep their own rules.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        signed_in = user is not None and user.is_authenticated
        if signed_in or request.path.startswith("/api/"):
            # Drop any max-age a view set: it would contradict no-store.
            patch_cache_control(response, no_store=True, no_cache=True, private=True, max_age=0)
        return response
