"""Domain events and the positions of the consumers that follow them.

See docs/architecture.md ("Domain events") for why an event has a transaction id next to its id.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class CurrentTransactionId(models.Func):
    """The writing transaction's id on PostgreSQL (`pg_current_xact_id()`, 64 bits, never wraps); 0 elsewhere.

    Used as the column's database default, so every insert path (the ORM, bulk inserts, a set-based
    `INSERT … SELECT`) stamps it without asking the database for it first.
    """

    output_field = models.BigIntegerField()
    arity = 0

    def as_sql(self, compiler: Any, connection: Any, *args: Any, **extra_context: Any) -> Any:
        return "0", []

    def as_postgresql(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        return "(pg_current_xact_id()::text::bigint)", []


class DomainEvent(models.Model):
    """One thing that happened to an account, written in the transaction that made it happen."""

    kind = models.CharField(max_length=64)
    # No index: nothing looks events up by account, and imports write hundreds of thousands of them.
    account_id = models.BigIntegerField(null=True, blank=True)
    subject_type = models.CharField(max_length=100, blank=True)  # "app_label.model"
    subject_id = models.BigIntegerField(null=True, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    occurred_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # The id of the transaction that wrote the event (PostgreSQL; 0 on SQLite, where ids commit in order).
    transaction_id = models.BigIntegerField(db_default=CurrentTransactionId(), editable=False)

    class Meta:
        verbose_name = _("domain event")
        verbose_name_plural = _("domain events")
        indexes = [
            models.Index(fields=["transaction_id", "id"], name="events_delivery_order"),
            models.Index(fields=["kind", "transaction_id", "id"], name="events_kind_delivery_order"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"

    @property
    def position(self) -> tuple[int, int]:
        """Where a consumer stands once it has handled this event (see events.selectors.events_after)."""
        return (self.transaction_id, self.pk)


class ConsumerPosition(models.Model):
    """The last event a named consumer has handled: it resumes after it, also after a crash."""

    name = models.CharField(max_length=100, unique=True)
    transaction_id = models.BigIntegerField(default=0)
    event_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.name} at {self.transaction_id}/{self.event_id}"

    @property
    def position(self) -> tuple[int, int]:
        return (self.transaction_id, self.event_id)
