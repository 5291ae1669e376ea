"""Writes about people: accounts for users, their roles, API keys and the audit log."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

import rules
from django.apps import apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from touchpoint.users.models import (
    API_KEY_SCOPES,
    ApiKey,
    AuditLogEntry,
    User,
    generate_api_key,
    hash_api_key,
)
from touchpoint.users.roles import Role


def role_grants(role: Role) -> set[str]:
    """The permissions ("app_label.codename") the apps' rules grant a role on its own accounts.

    Asked of a stand-in user of that role without an object: "may this role do it at all?"
    (object predicates such as `in_book` hold without an object).
    """
    stand_in = User(email=f"{role.value}@role.invalid", is_active=True)
    stand_in.__dict__["role"] = role  # the cached `User.role`, without a group to look up
    return {name for name in rules.permissions.permissions if rules.has_perm(name, stand_in)}


def sync_role_groups(*, using: str = "default") -> None:
    """Create the four role groups and give each exactly the model permissions the apps grant it."""
    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)
    by_name = {
        f"{app_label}.{codename}": pk
        for pk, app_label, codename in Permission.objects.using(using).values_list(
            "pk", "content_type__app_label", "codename"
        )
    }
    for role in Role:
        group, _created = Group.objects.using(using).get_or_create(name=role.value)
        group.permissions.set(sorted(by_name[name] for name in role_grants(role) if name in by_name))


def record_audit(
    *,
    actor: User | None,
    action: str,
    instance: models.Model,
    changes: dict[str, Any] | None = None,
) -> AuditLogEntry:
    """Append to the audit log; call inside the transaction of the change it records."""
    return AuditLogEntry.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        action=action,
        object_type=instance._meta.label_lower,
        object_id=str(instance.pk),
        object_repr=str(instance)[:255],
        changes=changes or {},
    )


@transaction.atomic
def create_user(
    *,
    email: str,
    role: Role | str,
    password: str | None = None,
    full_name: str = "",
    actor: User | None = None,
    check_password_strength: bool = True,
) -> tuple[User, str]:
    """Create a user with one role. Returns the user and the password (generated when none given)."""
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": _("Enter a valid email address.")}) from None
    try:
        role = Role(role)
    except ValueError:
        choices = ", ".join(r.value for r in Role)
        raise ValidationError(
            {
                "role": _("Unknown role “%(role)s”; choose one of: %(choices)s.")
                % {"role": role, "choices": choices}
            }
        ) from None
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": _("A user with this email address already exists.")})
    if password is None:
        password = secrets.token_urlsafe(12)
    elif check_password_strength:
        try:
            validate_password(password, User(email=email, full_name=full_name))
        except ValidationError as error:
            raise ValidationError({"password": error.messages}) from None
    user = User.objects.create_user(
        email=email,
        password=password,
        full_name=full_name,
        is_staff=role == Role.ADMIN,
        is_superuser=role == Role.ADMIN,
    )
    set_role(user=user, role=role, actor=actor)
    record_audit(actor=actor, action="user.create", instance=user, changes={"role": role.value})
    return user, password


@transaction.atomic
def set_role(*, user: User, role: Role | str, actor: User | None = None) -> None:
    """Give the user exactly one role (replacing any other role group)."""
    role = Role(role)
    role_groups = Group.objects.filter(name__in=[r.value for r in Role])
    user.groups.remove(*role_groups)
    group, _created = Group.objects.get_or_create(name=role.value)
    user.groups.add(group)
    user.is_staff = user.is_superuser = role == Role.ADMIN
    user.save(update_fields=["is_staff", "is_superuser"])


@transaction.atomic
def create_api_key(
    *,
    user: User,
    name: str = "",
    actor: User | None = None,
    scopes: list[str] | tuple[str, ...] = API_KEY_SCOPES,
    expires_at: datetime | None = None,
) -> tuple[ApiKey, str]:
    """A new API key for the user with these scopes (see API_KEY_SCOPES) and an optional expiry.
    The raw key is returned once and never stored."""
    chosen = (
        sorted(set(scopes), key=list(API_KEY_SCOPES).index) if set(scopes) <= set(API_KEY_SCOPES) else None
    )
    if not chosen:
        raise ValidationError(
            {"scopes": _("Choose one or more of: %(choices)s.") % {"choices": ", ".join(API_KEY_SCOPES)}}
        )
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": _("The expiry must be in the future.")})
    if len(name) > 100:
        raise ValidationError({"name": _("Keep the name to 100 characters.")})
    lookup, raw = generate_api_key()
    api_key = ApiKey.objects.create(
        user=user, name=name, lookup=lookup, key_hash=hash_api_key(raw), scopes=chosen, expires_at=expires_at
    )
    record_audit(
        actor=actor or user,
        action="apikey.create",
        instance=api_key,
        changes={"scopes": chosen, "expires_at": expires_at.isoformat() if expires_at else None},
    )
    return api_key, raw


@transaction.atomic
def revoke_api_key(*, api_key: ApiKey, actor: User | None = None) -> None:
    """Stop a key from working, keeping its row for the audit trail."""
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
        record_audit(actor=actor, action="apikey.revoke", instance=api_key)


def note_api_key_used(*, api_key: ApiKey) -> None:
    """Stamp the key's last use, at most once a minute: a busy script must not turn every read into a write."""
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at > timedelta(minutes=1):
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)


@transaction.atomic
def update_my_settings(*, user: User, receive_daily_digest: bool, language: str) -> User:
    """A person's own settings: whether they get the daily digest, and the language of their emails."""
    from django.conf import settings

    if language and language not in {code for code, _name in settings.LANGUAGES}:
        raise ValidationError({"language": _("Choose one of the languages Touchpoint speaks.")})
    changes = {
        field: [getattr(user, field), value]
        for field, value in (("receive_daily_digest", receive_daily_digest), ("language", language))
        if getattr(user, field) != value
    }
    if changes:
        user.receive_daily_digest = receive_daily_digest
        user.language = language
        user.save(update_fields=["receive_daily_digest", "language"])
        record_audit(actor=user, action="user.settings", instance=user, changes=changes)
    return user
