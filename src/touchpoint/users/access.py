"""Sign-in lockout with django-axes: who the client is, how long a lockout lasts, what the form says.

Settings (touchpoint/settings.py, docs/operations.md "Access and security"): after
AXES_FAILURE_LIMIT failed sign-ins for one account, or from one client address, sign-in is refused
for TOUCHPOINT_LOGIN_COOLOFF_MINUTES, doubled for every further AXES_FAILURE_LIMIT failures (at most
a day), even with the right password. An admin unlocks on the Locked sign-ins page, in Django's
admin (Access attempts) or with `touchpoint unlock`.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import Q, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import ngettext

MAX_COOL_OFF = timedelta(days=1)


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or, behind TOUCHPOINT_TRUSTED_PROXIES reverse proxies, the
    address the outermost trusted proxy saw (that many entries from the right of X-Forwarded-For).

    Without the setting, X-Forwarded-For is ignored: anyone can send it, so trusting it would let a
    script pick a new address for every guess."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    hops = settings.TOUCHPOINT_TRUSTED_PROXIES
    if hops > 0:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return remote


def username_of(request: HttpRequest | None, credentials: dict | None = None) -> str | None:
    """The account a sign-in names, as stored (lower case): "Ann@X.com" and "ann@x.com" are one account."""
    data: Any = credentials if credentials else (getattr(request, "POST", None) or {})
    value = data.get("username") or data.get("email") or ""
    return str(value).strip().lower() or None


def _failures(request: HttpRequest | None) -> int:
    """The most failures stored for the request's account or address (attempts expire on their own)."""
    if request is None:
        return 0
    ip = getattr(request, "axes_ip_address", None) or client_ip(request)
    username = get_client_username(request)
    most = 0
    for condition in (Q(ip_address=ip), Q(username=username) if username else None):
        if condition is None:
            continue
        total = AccessAttempt.objects.filter(condition).aggregate(n=Sum("failures_since_start"))["n"] or 0
        most = max(most, total)
    return most


def cool_off_for(failures: int) -> timedelta:
    """How long sign-in stays locked after this many failures: the base time, doubled for every
    further AXES_FAILURE_LIMIT failures, at most a day."""
    base = timedelta(minutes=settings.TOUCHPOINT_LOGIN_COOLOFF_MINUTES)
    limit = max(int(settings.AXES_FAILURE_LIMIT), 1)
    doublings = max(failures // limit - 1, 0)
    if doublings >= 20:
        return MAX_COOL_OFF
    return min(base * (2**doublings), MAX_COOL_OFF)


def cool_off(request: HttpRequest | None = None) -> timedelta:
    """AXES_COOLOFF_TIME: grows with the failures of the request's account and address."""
    return cool_off_for(_failures(request))


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' check, first of AUTHENTICATION_BACKENDS: refuses a locked-out account or address.

    `authenticate()` without a request (a management command, a test's `client.login`) has no client
    to judge and is not a sign-in form: it passes on to the next backend. Every sign-in form passes
    the request.
    """

    def authenticate(self, request: HttpRequest | None, username: str | None = None,
                     password: str | None = None, **kwargs: Any):  # fmt: skip
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def locked_message(remaining: timedelta) -> str:
    minutes = max(math.ceil(remaining.total_seconds() / 60), 1)
    return ngettext(
        "Sign-in is locked after too many failed attempts. Try again in %(minutes)d minute, or ask an "
        "admin to unlock it.",
        "Sign-in is locked after too many failed attempts. Try again in %(minutes)d minutes, or ask an "
        "admin to unlock it.",
        minutes,
    ) % {"minutes": minutes}


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict | None = None
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the sign-in form again (429) saying it is locked and for how long."""
    username = get_client_username(request, credentials) or ""
    form = AuthenticationForm(request, initial={"username": username})
    return render(
        request,
        "web/login.html",
        {
            "form": form,
            "locked_message": locked_message(cool_off(request)),
            "next": request.POST.get("next", ""),
        },
        status=429,
    )


def locked_attempts() -> list[AccessAttempt]:
    """The stored failure records that lock an account or address now (for the Locked sign-ins page)."""
    limit = int(settings.AXES_FAILURE_LIMIT)
    attempts = list(AccessAttempt.objects.order_by("-attempt_time")[:500])
    by_ip: dict[str, int] = {}
    by_user: dict[str, int] = {}
    for attempt in attempts:
        by_ip[attempt.ip_address or ""] = (
            by_ip.get(attempt.ip_address or "", 0) + attempt.failures_since_start
        )
        by_user[attempt.username or ""] = (
            by_user.get(attempt.username or "", 0) + attempt.failures_since_start
        )
    return [
        a
        for a in attempts
        if by_ip.get(a.ip_address or "", 0) >= limit or (a.username and by_user.get(a.username, 0) >= limit)
    ]
