from __future__ import annotations

import hashlib
import secrets
from typing import ClassVar

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from touchpoint.users.roles import Role


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra_fields) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra_fields) -> User:
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email: str, password: str | None = None, **extra_fields) -> User:
        extra_fields["is_staff"] = True
        extra_fields["is_superuser"] = True
        return self._create_user(email, password, **extra_fields)


class User(AbstractUser):
    """A person who signs in. The email address is the login; the role is a Django group."""

    # Django's documented way to drop an inherited field; the stubs type AbstractUser.username as str.
    username = None  # type: ignore[assignment]
    email = models.EmailField(_("email address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    reports_to = models.ForeignKey(
        "self",
        verbose_name=_("reports to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reports",
        help_text=_("A CS leader's home page covers the books of the people who report to them."),
    )
    receive_daily_digest = models.BooleanField(
        _("daily email digest"),
        default=True,
        help_text=_("A morning email with your new alerts and what is due today."),
    )
    language = models.CharField(
        _("language"),
        max_length=16,
        blank=True,
        help_text=_("The language of the emails Touchpoint sends you; empty for the site's default."),
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    # An email-keyed BaseUserManager, not auth's username-keyed UserManager the stubs expect here.
    objects: ClassVar[UserManager] = UserManager()  # type: ignore[assignment]

    class Meta:
        ordering = ["full_name", "email"]
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return (self.full_name or self.email).split(" ")[0]

    @cached_property
    def role(self) -> Role | None:
        """The user's role: the first role group they belong to (a user normally has one)."""
        names = {group.name for group in self.groups.all()}
        for role in Role:
            if role.value in names:
                return role
        return None


API_KEY_PREFIX = "tp"


def hash_api_key(raw_key: str) -> str:
    # API keys carry 256 bits of randomness, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(raw_key.encode()).hexdigest()


def generate_api_key() -> tuple[str, str]:
    """A new key as (lookup prefix, full raw key). Only the hash of the full key is stored."""
    lookup = secrets.token_hex(6)
    raw = f"{API_KEY_PREFIX}_{lookup}_{secrets.token_urlsafe(32)}"
    return lookup, raw


# read: GET; write: every other method; ingest: only the endpoints that record what another tool saw
# (API_INGEST_OPERATIONS in touchpoint.api_contract); admin: what only admins may do.
API_KEY_SCOPES = ("read", "write", "ingest", "admin")


class ApiKey(models.Model):
    """A secret a script sends as `Authorization: Bearer <key>`; it acts as its user."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(_("name"), max_length=100, blank=True)
    lookup = models.CharField(max_length=32, unique=True)
    key_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # What the key may do (API_KEY_SCOPES); its user's role still bounds it.
    scopes = models.JSONField(_("scopes"), default=list, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self) -> str:
        return f"{API_KEY_PREFIX}_{self.lookup}_… ({self.user})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and not self.is_expired

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()


class RateLimitWindow(models.Model):
    """How many requests one caller (an API key, a write key or an address) made in one minute.

    Written with one UPSERT per request (touchpoint.users.ratelimit); rows of past minutes are deleted
    as new minutes start."""

    bucket = models.CharField(max_length=80)
    window = models.BigIntegerField()  # minutes since 1970
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["bucket", "window"], name="ratelimit_bucket_window")]
        indexes = [models.Index(fields=["window"], name="ratelimit_window")]

    def __str__(self) -> str:
        return f"{self.bucket} @ {self.window}: {self.count}"


class AuditLogEntryQuerySet(models.QuerySet["AuditLogEntry"]):
    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditLogIsAppendOnly(_("The audit log is append-only: entries cannot be deleted."))


class AuditLogIsAppendOnly(Exception):
    """An attempt to change or delete an audit entry (the database refuses it too)."""


class AuditLogEntry(models.Model):
    """Who changed what and when; written in the same transaction as the change.

    Append-only: triggers in the database refuse UPDATE, DELETE (and TRUNCATE on PostgreSQL) of
    these rows (migration 0005_audit_append_only). The one change allowed is a redaction for the
    privacy erasure, through `touchpoint.users.audit.redact_entries`, which first records an
    `AuditRedaction` holding the entry's new text.
    """

    # The actor's id is kept when the user row is deleted (no database constraint, nothing cascades):
    # deleting a user must not rewrite the log. Users are deactivated rather than deleted.
    actor = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,  # users_audit_actor_created starts with it
        related_name="+",
    )
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=255, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = AuditLogEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log entries")
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            models.Index(fields=["actor", "created_at"], name="users_audit_actor_created"),
            models.Index(fields=["action", "created_at"], name="users_audit_action_created"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_id or '-'} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise AuditLogIsAppendOnly(_("The audit log is append-only: entries cannot be changed."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs) -> tuple[int, dict[str, int]]:
        raise AuditLogIsAppendOnly(_("The audit log is append-only: entries cannot be deleted."))


class AuditRedaction(models.Model):
    """The record of a redaction of an audit entry (the privacy erasure): who, when, why, and what the
    entry reads afterwards. Insert-only (database triggers); the entry's trigger lets an UPDATE through
    only to the text a redaction row of that entry holds."""

    entry = models.ForeignKey(AuditLogEntry, on_delete=models.PROTECT, related_name="redactions")
    redacted_at = models.DateTimeField(default=timezone.now)
    reason = models.CharField(max_length=255)
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    object_repr = models.CharField(max_length=255, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    clears_actor = models.BooleanField(default=False)

    class Meta:
        ordering = ["-redacted_at", "-id"]
        verbose_name = _("audit redaction")
        verbose_name_plural = _("audit redactions")

    def __str__(self) -> str:
        return f"{self.redacted_at:%Y-%m-%d %H:%M} redaction of audit entry {self.entry_id}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise AuditLogIsAppendOnly(_("Audit redactions cannot be changed."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs) -> tuple[int, dict[str, int]]:
        raise AuditLogIsAppendOnly(_("Audit redactions cannot be deleted."))


class SiteSettings(models.Model):
    """Settings admins change while Touchpoint runs (one row; edit it in the Django admin)."""

    csms_read_all_books = models.BooleanField(
        _("CSMs read every book"),
        default=True,
        help_text=_(
            "When on, a CSM reads every account (and changes only those of their book). When off, a "
            "CSM sees only the accounts they own or are on the team of."
        ),
    )
    silent_days_high_touch = models.PositiveSmallIntegerField(
        _("days without a touch (high touch)"),
        default=30,
        validators=[MinValueValidator(1)],
        help_text=_(
            "A high-touch account with no note, call, meeting or email for this long is listed on the home page."
        ),
    )
    silent_days_hybrid = models.PositiveSmallIntegerField(
        _("days without a touch (hybrid)"),
        default=60,
        validators=[MinValueValidator(1)],
        help_text=_("The same for hybrid accounts. Low-touch accounts are never listed."),
    )

    class Meta:
        verbose_name = _("site settings")
        verbose_name_plural = _("site settings")
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="site_settings_single_row")]

    def __str__(self) -> str:
        return str(_("Site settings"))

    def save(self, *args, **kwargs) -> None:
        self.pk = 1
        super().save(*args, **kwargs)

    @classmethod
    def current(cls) -> SiteSettings:
        """The settings row; the defaults when no one has changed anything yet (nothing is written)."""
        return cls.objects.filter(pk=1).first() or cls(pk=1)


class SignInLinkPurpose(models.TextChoices):
    INVITE = "invite", _("Invitation")
    RESET = "reset", _("Password reset")


class SignInLink(models.Model):
    """A one-time link an admin has Touchpoint email to someone: to accept an invitation or to set a
    new password. Only the hash of its random token is stored; it works once, until it expires, and a
    newer link for the same person and purpose voids it."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sign_in_links")
    purpose = models.CharField(max_length=16, choices=SignInLinkPurpose.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("sign-in link")
        verbose_name_plural = _("sign-in links")

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} · {self.user}"
