"""What the home app stores: the alerts people get, and the daily digests sent to them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Alert(models.Model):
    """Something a person should know about an account, made from a domain event by an alert rule.

    `kind` is the rule's key (the event kind it reads); `title` is plain English for the admin and
    search, `data` what the rule's `describe` needs to say it again in the reader's language. One
    alert per (event, recipient): the consumer may see an event twice (a retry), never alert twice.
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recipient"), on_delete=models.CASCADE, related_name="alerts"
    )
    account = models.ForeignKey(
        "accounts.Account",
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="alerts",
    )
    kind = models.CharField(_("kind"), max_length=64)
    title = models.CharField(_("title"), max_length=255)
    data = models.JSONField(default=dict, blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    event_id = models.BigIntegerField(_("domain event"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        constraints = [
            models.UniqueConstraint(
                fields=["event_id", "recipient"],
                condition=Q(event_id__isnull=False),
                name="alert_once_per_event_and_recipient",
            )
        ]
        indexes = [models.Index(fields=["recipient", "read_at", "-created_at"], name="alert_inbox")]

    def __str__(self) -> str:
        return f"{self.recipient_id}: {self.title}"


class DigestDelivery(models.Model):
    """One person's daily digest for one day: claimed, then sent (or skipped: nothing to say).

    The row is the claim: it is inserted (unique per user and day) in the transaction that decides to
    send, the email goes out after that commits, and `sent_at` is stamped once the SMTP server took
    it. A retry finds the row and sends only if it is still `claimed` and older than the claim
    timeout (the sender died before sending); `sent` and `empty` rows are never sent again.
    """

    class Status(models.TextChoices):
        CLAIMED = "claimed", _("Claimed")
        SENT = "sent", _("Sent")
        EMPTY = "empty", _("Nothing to send")
        FAILED = "failed", _("Failed")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="+"
    )
    day = models.DateField(_("day"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.CLAIMED)
    claimed_at = models.DateTimeField(_("claimed"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    alerts_until = models.DateTimeField(
        _("alerts up to"), help_text=_("The digest holds the alerts created before this moment.")
    )
    alert_count = models.PositiveIntegerField(_("alerts"), default=0)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["-day", "user"]
        verbose_name = _("digest delivery")
        verbose_name_plural = _("digest deliveries")
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="digest_once_a_day")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.day}: {self.status}"
