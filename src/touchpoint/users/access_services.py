"""Writes of access control: unlocking sign-ins, turning the TOTP second factor on and off."""

from __future__ import annotations

from axes.models import AccessAttempt
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from touchpoint.users.models import User
from touchpoint.users.people import end_sessions
from touchpoint.users.services import record_audit


@transaction.atomic
def unlock_sign_in(*, username: str = "", ip_address: str = "", actor: User | None = None) -> int:
    """Forget the failed sign-ins of an account (`username`) or from an address (`ip_address`), so it
    may sign in again at once. Returns how many failure records were removed; each one is audited."""
    username = (username or "").strip()
    ip_address = (ip_address or "").strip()
    if not username and not ip_address:
        raise ValidationError({"username": _("Give an account or an address to unlock.")})
    condition = Q()
    if username:
        condition |= Q(username__iexact=username)
    if ip_address:
        condition |= Q(ip_address=ip_address)
    attempts = list(AccessAttempt.objects.filter(condition))
    for attempt in attempts:
        record_audit(
            actor=actor,
            action="signin.unlock",
            instance=attempt,
            changes={
                "username": attempt.username or "",
                "ip_address": attempt.ip_address or "",
                "failures": attempt.failures_since_start,
            },
        )
    AccessAttempt.objects.filter(pk__in=[a.pk for a in attempts]).delete()
    return len(attempts)


BACKUP_CODES = 8


def new_totp_key() -> str:
    """A fresh TOTP secret (hex, as django-otp stores it), kept in the set-up form until confirmed."""
    from django_otp.util import random_hex

    return random_hex(20)


def totp_matches(*, key: str, code: str) -> bool:
    """Whether `code` is the current code (one step either side) of the TOTP secret `key`."""
    from binascii import unhexlify

    from django_otp.oath import TOTP

    code = (code or "").strip().replace(" ", "")
    if not code.isdigit() or len(code) > 8:
        return False
    return TOTP(unhexlify(key.encode())).verify(int(code), tolerance=1)


@transaction.atomic
def enable_two_factor(
    *, user: User, key: str, code: str, keep_session: str | None = None
) -> tuple[object, list[str]]:
    """Turn the second factor on with the secret `key` shown to the user, confirmed by a code from their
    app. Returns the device and new backup codes (each works once).

    The user's other sessions end (all but `keep_session`, the one turning it on): they were signed in
    with a password alone, and must now sign in again with the code."""
    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
    from django_otp.plugins.otp_totp.models import TOTPDevice

    if not totp_matches(key=key, code=code):
        raise ValidationError({"code": _("That code is not right (or too many tries: wait a little).")})
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    device = TOTPDevice.objects.create(user=user, name="Touchpoint", key=key, confirmed=True)
    backup = StaticDevice.objects.create(user=user, name="Backup codes", confirmed=True)
    codes = [StaticToken.random_token() for _i in range(BACKUP_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=backup, token=code) for code in codes])
    ended = end_sessions(user, keep=keep_session)
    record_audit(actor=user, action="2fa.enable", instance=user, changes={"other_sessions_ended": ended})
    return device, codes


def verify_two_factor(*, user: User, code: str):
    """The user's confirmed device that accepts `code` (TOTP or a backup code, used once), or None.

    django-otp throttles each device: after a wrong code the next try must wait, doubling each time."""
    from django_otp import devices_for_user

    code = (code or "").strip().replace(" ", "")
    if not code:
        return None
    for device in devices_for_user(user, confirmed=True):
        if device.verify_token(code):
            return device
    return None


@transaction.atomic
def disable_two_factor(*, user: User, code: str, actor: User | None = None) -> None:
    """Remove the user's second factor; needs a current code (or a backup code)."""
    from django_otp import devices_for_user

    if verify_two_factor(user=user, code=code) is None:
        raise ValidationError({"code": _("That code is not right (or too many tries: wait a little).")})
    for device in list(devices_for_user(user, confirmed=None)):
        device.delete()
    record_audit(actor=actor or user, action="2fa.disable", instance=user)


def has_two_factor(user: User) -> bool:
    from django_otp import user_has_device

    return user_has_device(user, confirmed=True)


@transaction.atomic
def reset_two_factor(*, user: User, actor: User | None) -> bool:
    """An admin removes someone's second factor (a lost phone): their devices and backup codes go,
    their sessions end, and they set a new one up at their next sign-in if their role requires it.
    Returns whether there was one to remove."""
    from django_otp import devices_for_user

    devices = list(devices_for_user(user, confirmed=None))
    if not devices:
        return False
    for device in devices:
        device.delete()
    ended = end_sessions(user)
    record_audit(actor=actor, action="2fa.reset", instance=user, changes={"sessions_ended": ended})
    return True
