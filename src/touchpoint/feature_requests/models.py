"""Feature requests (NFR): what customers ask the product to do, and which accounts asked.

A request has a title, a description, a product area and a status (new → planned → in progress →
shipped, or declined); every status change is a row of its history with a note. The accounts that
asked are its links, one per account: asking again adds an ask (the verbatim, the contact, who wrote
it down, when) to the same link, so every verbatim is kept and the account still counts once.

Two requests for the same thing are merged by a person: the duplicate's links move to the survivor
(an account linked to both keeps one link, with the asks of both), the duplicate keeps its history
and points at the survivor (`merged_into`), whose page it redirects to. Every write goes through
feature_requests/services.py.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    NEW = "new", _("New")
    PLANNED = "planned", _("Planned")
    IN_PROGRESS = "in_progress", _("In progress")
    SHIPPED = "shipped", _("Shipped")
    DECLINED = "declined", _("Declined")


OPEN_STATUSES = (Status.NEW, Status.PLANNED, Status.IN_PROGRESS)


class FeatureRequest(models.Model):
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), max_length=5000, blank=True)
    product_area = models.CharField(_("product area"), max_length=100, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.NEW)
    # The request's id in the tool it came from (a CSV import's "request ID"), unique when given.
    external_id = models.CharField(_("external ID"), max_length=128, null=True, blank=True, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    status_changed_at = models.DateTimeField(_("status changed"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("shipped"), null=True, blank=True)
    # When the requesters' owners were given their tasks: once per request, whatever is saved later.
    owners_told_at = models.DateTimeField(null=True, blank=True)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged",
    )
    merged_at = models.DateTimeField(_("merged"), null=True, blank=True)

    class Meta:
        verbose_name = _("feature request")
        verbose_name_plural = _("feature requests")
        ordering = ("-created_at", "-id")
        indexes = [models.Index(fields=["status", "merged_into"], name="fr_status_merged")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(merged_into=models.F("id")), name="fr_not_merged_into_itself"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_merged(self) -> bool:
        return self.merged_into_id is not None


class RequestLink(models.Model):
    """An account that asked for a request (once, however often it asked): its asks hang off it."""

    request = models.ForeignKey(FeatureRequest, on_delete=models.CASCADE, related_name="links")
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="feature_request_links"
    )
    first_asked_at = models.DateTimeField(_("first asked"), default=timezone.now)
    last_asked_at = models.DateTimeField(_("last asked"), default=timezone.now)
    # The latest ask's words and contact (every ask keeps its own).
    verbatim = models.TextField(_("verbatim"), max_length=5000, blank=True)
    contact = models.ForeignKey(
        "accounts.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("requesting account")
        verbose_name_plural = _("requesting accounts")
        ordering = ("first_asked_at", "id")
        constraints = [
            models.UniqueConstraint(fields=("request", "account"), name="fr_one_link_per_account"),
        ]
        indexes = [models.Index(fields=["account", "request"], name="fr_link_account")]

    def __str__(self) -> str:
        return f"{self.account_id} → {self.request_id}"


class Ask(models.Model):
    """One time an account asked: who at the customer (optional), their words, who wrote it down."""

    link = models.ForeignKey(RequestLink, on_delete=models.CASCADE, related_name="asks")
    asked_at = models.DateTimeField(_("asked"), default=timezone.now)
    verbatim = models.TextField(_("verbatim"), max_length=5000, blank=True)
    contact = models.ForeignKey(
        "accounts.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The ask's id in a CSV import (a row's external ID), so importing the same file again is a no-op.
    external_id = models.CharField(_("external ID"), max_length=128, null=True, blank=True, unique=True)

    class Meta:
        verbose_name = _("ask")
        verbose_name_plural = _("asks")
        ordering = ("asked_at", "id")

    def __str__(self) -> str:
        return self.verbatim[:80]


class ChangeKind(models.TextChoices):
    CREATED = "created", _("Created")
    STATUS = "status", _("Status changed")
    EDITED = "edited", _("Edited")
    MERGED_IN = "merged_in", _("Merged in")
    MERGED_AWAY = "merged_away", _("Merged into another")


class RequestChange(models.Model):
    """The request's history: created, each status change with its note, edits, merges."""

    request = models.ForeignKey(FeatureRequest, on_delete=models.CASCADE, related_name="history")
    kind = models.CharField(max_length=12, choices=ChangeKind.choices)
    from_status = models.CharField(max_length=12, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=Status.choices, blank=True)
    note = models.TextField(_("note"), max_length=2000, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("request change")
        verbose_name_plural = _("request changes")
        ordering = ("at", "id")

    def __str__(self) -> str:
        return f"{self.request_id}: {self.kind}"


class NotDuplicate(models.Model):
    """A suggested pair someone said is not the same request: no longer suggested."""

    first = models.ForeignKey(FeatureRequest, on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey(FeatureRequest, on_delete=models.CASCADE, related_name="+")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("first", "second"), name="fr_not_duplicate_once"),
            models.CheckConstraint(
                condition=Q(first__lt=models.F("second")), name="fr_not_duplicate_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.first_id} ≠ {self.second_id}"
