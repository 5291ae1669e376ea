"""The optional TOTP second factor (django-otp): set-up on My settings, the code at sign-in.

At sign-in (the `user_logged_in` signal) the session notes whether the person must still give a code
("verify": they have a confirmed device) or set one up first ("setup": an admin while
TOUCHPOINT_REQUIRE_2FA_FOR_ADMINS is on). Until then TwoFactorMiddleware lets through only the
verify or set-up page, logging out, static files and language switching: every other page redirects
there and every session call of the API answers 403.
"""

from __future__ import annotations

import base64
from binascii import unhexlify
from collections.abc import Callable
from urllib.parse import quote

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core import signing
from django.core.exceptions import ValidationError
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django_otp import login as otp_login
from django_otp import user_has_device

from touchpoint.request_types import AuthenticatedHttpRequest
from touchpoint.users import access_services
from touchpoint.users.access import lockout_response
from touchpoint.users.roles import Role

SESSION_KEY = "touchpoint_two_factor"
VERIFY = "verify"
SETUP = "setup"
KEY_SALT = "touchpoint.two-factor.key"


@receiver(user_logged_in)
def _note_second_factor(sender, request: HttpRequest | None, user, **kwargs) -> None:
    if request is None or not hasattr(request, "session"):
        return
    if user_has_device(user, confirmed=True):
        request.session[SESSION_KEY] = VERIFY
    elif settings.TOUCHPOINT_REQUIRE_2FA_FOR_ADMINS and getattr(user, "role", None) == Role.ADMIN:
        request.session[SESSION_KEY] = SETUP
    else:
        request.session.pop(SESSION_KEY, None)


class TwoFactorMiddleware:
    """Refuses every page but the second-factor ones to a session that still owes a code or a set-up."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        pending = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
        if pending and request.user.is_authenticated:
            target = reverse("two-factor-verify" if pending == VERIFY else "two-factor-setup")
            allowed = (target, reverse("logout"), "/static/", "/i18n/")
            path = request.path
            if not path.startswith(allowed):
                if path.startswith("/api/") and "authorization" in request.headers:
                    return self.get_response(request)  # an API key decides alone, not this session
                if path.startswith("/api/"):
                    return JsonResponse(
                        {"detail": _("Finish signing in with your second factor first."), "errors": []},
                        status=403,
                    )
                return redirect(f"{target}?next={request.get_full_path()}")
        return self.get_response(request)


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return reverse(settings.LOGIN_REDIRECT_URL)


@login_required
def verify(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The second step of signing in: a code from the authenticator app, or a backup code."""
    error = ""
    if request.method == "POST":
        device = access_services.verify_two_factor(user=request.user, code=request.POST.get("code", ""))
        if device is not None:
            otp_login(request, device)
            request.session.pop(SESSION_KEY, None)
            return redirect(_next(request))
        # A wrong code is a failed sign-in: it counts toward the lockout as a wrong password does
        # (django-axes listens), so guessing codes with a stolen password locks the account too.
        credentials = {"username": request.user.email}
        user_login_failed.send(sender=__name__, credentials=credentials, request=request)
        if AxesProxyHandler.is_locked(request, credentials):
            logout(request)
            return lockout_response(request, credentials=credentials)
        error = _("That code is not right (or too many tries: wait a little).")
    status = 400 if error else 200
    return render(
        request, "users/two_factor_verify.html", {"error": error, "next": _next(request)}, status=status
    )


def _qr_svg(url: str) -> str:
    import segno  # here, not at the top: ~11 MB in every process for a page few people open

    return segno.make(url, error="m").svg_inline(scale=4, omitsize=False)


@login_required
def setup(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Turn the second factor on (QR code and secret, confirmed with a code) or off (with a code)."""
    user = request.user
    enabled = user_has_device(user, confirmed=True)
    error = ""
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "disable":
                access_services.disable_two_factor(user=user, code=request.POST.get("code", ""))
                request.session.pop(SESSION_KEY, None)
                messages.success(request, _("Two-factor sign-in is off."))
                return redirect("my-settings")
            key = signing.loads(request.POST.get("key", ""), salt=KEY_SALT, max_age=3600)
            device, codes = access_services.enable_two_factor(
                user=user,
                key=key,
                code=request.POST.get("code", ""),
                keep_session=request.session.session_key,
            )
        except signing.BadSignature:
            error = _("The set-up expired: scan the new code and try again.")
        except ValidationError as failure:
            error = " ".join(failure.messages)
        else:
            otp_login(request, device)
            request.session.pop(SESSION_KEY, None)
            return render(request, "users/two_factor_setup.html", {"enabled": True, "backup_codes": codes})
    context: dict[str, object] = {"enabled": enabled, "error": error}
    if not enabled:
        # Nothing is stored until the user confirms a code: the secret travels signed in the form.
        key = access_services.new_totp_key()
        secret = base64.b32encode(unhexlify(key)).decode()
        label = quote(f"{settings.OTP_TOTP_ISSUER}:{user.email}")
        url = f"otpauth://totp/{label}?secret={secret}&issuer={quote(settings.OTP_TOTP_ISSUER)}&digits=6"
        context["qr_svg"] = _qr_svg(url)
        context["secret"] = secret
        context["signed_key"] = signing.dumps(key, salt=KEY_SALT)
        context["required"] = request.session.get(SESSION_KEY) == SETUP
    return render(request, "users/two_factor_setup.html", context, status=400 if error else 200)
