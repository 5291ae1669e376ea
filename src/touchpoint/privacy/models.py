"""What the privacy erasure keeps: a record that it was done, and the ids whose new events are dropped."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Erasure(models.Model):
    """One person erased: when, by whom, the salted hash of their email (never the email) and counts."""

    erased_at = models.DateTimeField(_("erased"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("erased by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    email_digest = models.CharField(_("email (salted hash)"), max_length=64, db_index=True)
    pseudonym = models.CharField(_("pseudonym"), max_length=64, unique=True)
    counts = models.JSONField(_("rows changed, per app"), default=dict, blank=True)

    class Meta:
        ordering = ["-erased_at", "-id"]
        verbose_name = _("erasure")
        verbose_name_plural = _("erasures")

    def __str__(self) -> str:
        return self.pseudonym


class BlockedIdentifier(models.Model):
    """A product user id (userId or anonymousId) of an erased person, as a salted hash.

    Ingestion drops the events that carry it (and counts them here): an erased person's product
    does not bring them back.
    """

    digest = models.CharField(max_length=64, unique=True)
    erasure = models.ForeignKey(Erasure, on_delete=models.CASCADE, related_name="blocked")
    created_at = models.DateTimeField(default=timezone.now)
    dropped_events = models.PositiveBigIntegerField(default=0)
    last_dropped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("blocked product user id")
        verbose_name_plural = _("blocked product user ids")

    def __str__(self) -> str:
        return self.digest[:12]
