"""Reads about people and keys."""

from __future__ import annotations

import hmac

from django.db.models import QuerySet

from touchpoint.users.models import API_KEY_PREFIX, ApiKey, User, hash_api_key
from touchpoint.users.roles import Role


def api_key_for(raw_key: str, *, include_expired: bool = False) -> ApiKey | None:
    """The active key a raw API key string is (with its user), or None for an unknown, malformed or revoked key.

    An expired key is None too, unless `include_expired` (the API then says it expired)."""
    parts = raw_key.split("_", 2)
    if len(parts) != 3 or parts[0] != API_KEY_PREFIX:
        return None
    api_key = (
        ApiKey.objects.select_related("user")
        .filter(lookup=parts[1], revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if api_key is None or not hmac.compare_digest(api_key.key_hash, hash_api_key(raw_key)):
        return None
    if api_key.is_expired and not include_expired:
        return None
    return api_key


def api_keys_of(user: User) -> QuerySet[ApiKey]:
    """A person's keys, newest first (revoked ones too, for the record)."""
    return ApiKey.objects.filter(user=user).order_by("-created_at", "-id")


def user_for_api_key(raw_key: str) -> User | None:
    """The active user a raw API key belongs to, or None for an unknown, malformed or revoked key."""
    api_key = api_key_for(raw_key)
    return api_key.user if api_key is not None else None


def account_owners() -> QuerySet[User]:
    """People who can own accounts: active CSMs, CS leaders and admins, by name."""
    return (
        User.objects.filter(is_active=True, groups__name__in=[Role.CSM, Role.CS_LEADER, Role.ADMIN])
        .distinct()
        .order_by("full_name", "email")
    )
