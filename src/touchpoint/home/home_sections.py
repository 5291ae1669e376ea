"""The home page's own section: the viewer's recent unread alerts."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from touchpoint.home.alerts import alert_text
from touchpoint.home.models import Alert
from touchpoint.home.sections import HomeScope, home_sections

SHOWN = 10


def recent_alerts(scope: HomeScope) -> dict[str, Any]:
    """The viewer's unread alerts, newest first (their own, whichever book the page shows)."""
    unread = Alert.objects.filter(recipient=scope.viewer, read_at__isnull=True)
    rows = list(unread.select_related("account").order_by("-created_at", "-id")[: SHOWN + 1])
    count = len(rows) if len(rows) <= SHOWN else unread.count()
    return {
        "items": [{"alert": alert, "text": alert_text(alert)} for alert in rows[:SHOWN]],
        "count": count,
        "more": max(0, count - SHOWN),
    }


def register() -> None:
    home_sections.add(
        key="alerts",
        title=_("Alerts"),
        template="home/_home_alerts.html",
        items=recent_alerts,
        order=5,
    )
