"""Writes of the home app: marking alerts read."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from touchpoint.home.models import Alert


@transaction.atomic
def mark_alert_read(*, alert: Alert, user: Any) -> Alert:
    """Mark one of the user's alerts read (reading it twice keeps the first time)."""
    if alert.recipient_id != user.pk:
        raise ValueError("an alert is marked read by its recipient only")
    if alert.read_at is None:
        alert.read_at = timezone.now()
        alert.save(update_fields=["read_at"])
    return alert


@transaction.atomic
def mark_all_alerts_read(*, user: Any) -> int:
    """Mark every unread alert of the user read; returns how many."""
    return Alert.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())
