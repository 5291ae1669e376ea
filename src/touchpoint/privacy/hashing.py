"""Salted hashes of emails and product user ids: what the privacy records keep instead of the values.

An HMAC-SHA256 keyed with SECRET_KEY (and each of SECRET_KEY_FALLBACKS when checking, so rotating the
key keeps the blocklist working while the old key is listed as a fallback).
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from django.conf import settings

_SALT = "touchpoint.privacy"


def normalise(value: str) -> str:
    return (value or "").strip().lower()


@lru_cache(maxsize=8)
def _keyed(secret: str) -> hmac.HMAC:
    """The HMAC keyed as Django's salted_hmac(_SALT, …, secret, sha256) keys it, made once per secret:
    ingestion hashes every id of every batch while the blocklist is not empty."""
    key = hashlib.sha256((_SALT + secret).encode()).digest()
    return hmac.new(key, digestmod=hashlib.sha256)


def digest(value: str, *, secret: str | None = None) -> str:
    keyed = _keyed(settings.SECRET_KEY if secret is None else secret).copy()
    keyed.update(normalise(value).encode())
    return keyed.hexdigest()


def digests(value: str) -> set[str]:
    """The value's hash under the current key and every fallback key."""
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return {digest(value, secret=secret) for secret in secrets}
