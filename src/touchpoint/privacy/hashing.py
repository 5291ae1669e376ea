"""Salted hashes of emails and product user ids: what the privacy records keep instead of the values.

An HMAC-SHA256 keyed with SECRET_KEY (and each of SECRET_KEY_FALLBACKS when checking, so rotating the
key keeps the blocklist working while the old key is listed as a fallback).
"""

from __future__ import annotations

from django.conf import settings
from django.utils.crypto import salted_hmac

_SALT = "touchpoint.privacy"


def normalise(value: str) -> str:
    return (value or "").strip().lower()


def digest(value: str, *, secret: str | None = None) -> str:
    return salted_hmac(_SALT, normalise(value), secret=secret, algorithm="sha256").hexdigest()


def digests(value: str) -> set[str]:
    """The value's hash under the current key and every fallback key."""
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return {digest(value, secret=secret) for secret in secrets}
