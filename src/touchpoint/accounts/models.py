"""Customer companies, the people at them, and the timeline of every touch."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class Segment(models.Model):
    """A slice of the customer base served the same way (e.g. enterprise, mid-market, SMB)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    tier = models.PositiveSmallIntegerField(
        _("tier"), default=1, help_text=_("1 is the most valuable tier; used to order segments.")
    )

    class Meta:
        ordering = ["tier", "name"]
        verbose_name = _("segment")
        verbose_name_plural = _("segments")

    def __str__(self) -> str:
        return self.name


class EngagementModel(models.TextChoices):
    HIGH_TOUCH = "high", _("High touch")
    LOW_TOUCH = "low", _("Low touch")
    HYBRID = "hybrid", _("Hybrid")


class Account(models.Model):
    """A customer company."""

    name = models.CharField(_("name"), max_length=200, db_index=True)
    domain = models.CharField(_("domain"), max_length=253, blank=True, db_index=True)
    external_id = models.CharField(
        _("external ID"),
        max_length=128,
        null=True,
        blank=True,
        unique=True,
        help_text=_("The account's ID in your CRM or product (Segment groupId)."),
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent company"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="children",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_accounts",
    )
    segment = models.ForeignKey(
        Segment,
        verbose_name=_("segment"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="accounts",
    )
    engagement_model = models.CharField(
        _("engagement model"),
        max_length=8,
        choices=EngagementModel.choices,
        default=EngagementModel.HYBRID,
        db_index=True,
    )
    language = models.CharField(
        _("language"),
        max_length=8,
        blank=True,
        choices=settings.LANGUAGES,
        help_text=_(
            "The language messages to this account's people use when a person has none of their own."
        ),
    )
    # Free-form facts about the account (plan name, region, CRM fields) that journeys and filters read.
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        constraints = [
            models.CheckConstraint(condition=~Q(parent=F("id")), name="account_not_own_parent"),
        ]
        # The portfolio sorts by name without case; this index lets a page read 50 rows, not sort all.
        indexes = [models.Index(Lower("name"), "id", name="account_name_lower")]

    def __str__(self) -> str:
        return self.name


class TeamRole(models.TextChoices):
    CSM = "csm", _("CSM")
    EXECUTIVE_SPONSOR = "executive_sponsor", _("Executive sponsor")
    OTHER = "other", _("Other")


class AccountTeamMember(models.Model):
    """Someone on an account's team besides its owner: the account is in their book of business."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="team")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="account_teams",
    )
    role = models.CharField(
        _("role on the team"), max_length=32, choices=TeamRole.choices, default=TeamRole.CSM
    )
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["account", "user__full_name", "user__email"]
        verbose_name = _("account team member")
        verbose_name_plural = _("account team members")
        constraints = [models.UniqueConstraint(fields=["account", "user"], name="account_team_member_once")]

    def __str__(self) -> str:
        return f"{self.account}: {self.user} ({self.get_role_display()})"


class ContactRole(models.TextChoices):
    CHAMPION = "champion", _("Champion")
    DECISION_MAKER = "decision_maker", _("Decision maker")
    KPI_OWNER = "kpi_owner", _("KPI owner")
    USER = "user", _("User")
    BILLING = "billing", _("Billing")


class Contact(models.Model):
    """A person at an account."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("email"), blank=True, db_index=True)
    title = models.CharField(_("job title"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    external_id = models.CharField(
        _("external ID"),
        max_length=128,
        null=True,
        blank=True,
        unique=True,
        help_text=_("The person's ID in your product (Segment userId)."),
    )
    language = models.CharField(
        _("language"),
        max_length=8,
        blank=True,
        choices=settings.LANGUAGES,
        help_text=_("The language of the messages this person gets; empty to use the account's."),
    )
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        blank=True,
        help_text=_("An IANA name such as Asia/Tokyo; quiet hours follow it. Empty for the site's."),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        constraints = [
            models.UniqueConstraint(
                fields=["account", "email"], condition=~Q(email=""), name="contact_email_unique_in_account"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def role_values(self) -> list[str]:
        """The contact's roles in a stable order (uses prefetched roles when present)."""
        order = {value: index for index, value in enumerate(ContactRole.values)}
        return sorted((r.role for r in self.roles.all()), key=order.__getitem__)

    @property
    def role_labels(self) -> list[StrOrPromise]:
        return [ContactRole(value).label for value in self.role_values]


class ContactRoleAssignment(models.Model):
    """One role a contact plays at their account (a contact may have several)."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(max_length=16, choices=ContactRole.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["contact", "role"], name="contact_role_once")]
        indexes = [models.Index(fields=["role"])]

    def __str__(self) -> str:
        return f"{self.contact}: {self.role}"


class AccountTag(models.Model):
    """A label on an account ("beta", "at-risk-2026"), set by people or by a journey."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(_("tag"), max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        constraints = [models.UniqueConstraint(fields=["account", "name"], name="account_tag_once")]
        indexes = [models.Index(fields=["name"])]

    def __str__(self) -> str:
        return self.name


class EngagementKind(models.TextChoices):
    NOTE = "note", _("Note")
    MEETING = "meeting", _("Meeting")
    CALL = "call", _("Call")
    EMAIL = "email", _("Email")


class Engagement(models.Model):
    """A human touch a CSM records: a note, a meeting, a call or an email."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="engagements")
    kind = models.CharField(_("kind"), max_length=16, choices=EngagementKind.choices)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("details"), blank=True)
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"), null=True, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    contacts = models.ManyToManyField(Contact, blank=True, related_name="engagements")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("engagement")
        verbose_name_plural = _("engagements")
        constraints = [
            models.CheckConstraint(
                condition=~Q(subject="") | ~Q(body=""), name="engagement_has_subject_or_body"
            )
        ]

    def __str__(self) -> str:
        return self.subject or self.body[:60]


class TimelineEntry(models.Model):
    """One touch on an account's timeline.

    Any app records here through `accounts.services.record_on_timeline`, in the transaction of the
    write it records. `kind` is open (see accounts/timeline.py), so new apps add kinds without a
    migration; `subject` points at the row the entry is about, when there is one.
    """

    # Neither key has an index of its own: timeline_account_recent and timeline_subject start with
    # them (each index is written for every entry, and imports write hundreds of thousands).
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="timeline", db_index=False)
    kind = models.CharField(max_length=32)
    occurred_at = models.DateTimeField(default=timezone.now)
    title = models.CharField(max_length=255)
    body = models.TextField(blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    subject_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.SET_NULL, db_index=False
    )
    subject_id = models.PositiveBigIntegerField(null=True, blank=True)
    subject = GenericForeignKey("subject_type", "subject_id")
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("timeline entry")
        verbose_name_plural = _("timeline entries")
        indexes = [
            models.Index(fields=["account", "-occurred_at", "-id"], name="timeline_account_recent"),
            models.Index(fields=["subject_type", "subject_id"], name="timeline_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d} {self.kind}: {self.title}"


class SavedView(models.Model):
    """A portfolio query (filters and sort) someone saved under a name; leaders may share one with everyone."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="saved_views"
    )
    name = models.CharField(_("name"), max_length=80)
    query = models.CharField(
        _("query"),
        max_length=2000,
        blank=True,
        help_text=_("The portfolio's query string: filters and sort."),
    )
    shared = models.BooleanField(_("shared with everyone"), default=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        permissions = [("share_savedview", "Can share a saved view with everyone")]
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="saved_view_name_once_per_user")]

    def __str__(self) -> str:
        return self.name
