"""What the integrations keep: received Stripe events (idempotency) and import jobs."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# --- Stripe -----------------------------------------------------------------------------------


class StripeOutcome(models.TextChoices):
    PROCESSED = "processed", _("Processed")
    IGNORED = "ignored", _("Ignored")
    STALE = "stale", _("Older than what was applied")
    FAILED = "failed", _("Not applied: impossible values")


class StripeEvent(models.Model):
    """A Stripe event, recorded in the same transaction as what it changed: its id makes retries harmless."""

    event_id = models.CharField(_("event ID"), max_length=255, primary_key=True)
    type = models.CharField(_("type"), max_length=100)
    created = models.DateTimeField(_("created at Stripe"))
    livemode = models.BooleanField(_("live mode"), default=False)
    object_id = models.CharField(_("object"), max_length=255, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=StripeOutcome.choices)
    message = models.TextField(_("what was done"), blank=True)
    received_at = models.DateTimeField(_("received"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("Stripe event")
        verbose_name_plural = _("Stripe events")

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class StripeObjectState(models.Model):
    """The creation time of the newest event applied to a Stripe object: Stripe does not deliver in order,
    and an older event must not undo a newer one."""

    object_id = models.CharField(max_length=255, primary_key=True)
    last_event_created = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.object_id} @ {self.last_event_created:%Y-%m-%d %H:%M:%S}"


# --- CSV imports ------------------------------------------------------------------------------


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded: map the columns")
    CHECKING = "checking", _("Checking")
    CHECKED = "checked", _("Checked")
    IMPORTING = "importing", _("Importing")
    DONE = "done", _("Imported")
    FAILED = "failed", _("Not imported")


class ImportJob(models.Model):
    """One uploaded file on its way in: detected dialect, the mapping people chose, and the outcome.

    While a check or an import runs, its progress goes to a small file beside the upload rather than
    to this row: the import's own transaction holds the database (SQLite's one writer), and a page
    must still be able to read how far it got.
    """

    kind = models.CharField(_("kind"), max_length=32)
    original_name = models.CharField(_("file name"), max_length=255)
    stored_name = models.CharField(max_length=255, unique=True)
    encoding = models.CharField(_("encoding"), max_length=32)
    delimiter = models.CharField(_("delimiter"), max_length=1)
    header = models.JSONField(default=list)
    mapping = models.JSONField(default=dict)
    status = models.CharField(
        _("status"), max_length=16, choices=ImportStatus.choices, default=ImportStatus.UPLOADED
    )
    result = models.JSONField(default=dict, blank=True)
    # The uploader's language: the background check writes its problems in it.
    language = models.CharField(max_length=16, default=settings.LANGUAGE_CODE)
    created_by = models.ForeignKey("users.User", null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")

    def __str__(self) -> str:
        return f"{self.kind}: {self.original_name}"

    @property
    def kind_label(self) -> str:
        """What the file holds, in the reader's language (the importer's label; the raw kind if none)."""
        from touchpoint.integrations.csv_import.importers import IMPORTERS

        importer = IMPORTERS.get(self.kind)
        return str(importer.label) if importer else self.kind
