"""What every page's layout needs: the navigation and what the signed-in person may do."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from touchpoint.users.permissions import can

# (url name, label, permission needed or None). Later apps add their pages here.
NAVIGATION = [
    ("portfolio", _("Portfolio"), None),
    ("sources", _("Event sources"), "usage.view_source"),
    ("key-features", _("Key features"), None),
    ("renewals", _("Renewals"), "revenue.view_subscription"),
    ("revenue-dashboard", _("Revenue"), "revenue.view_mrrmovement"),
    ("health-scorecards", _("Health scorecards"), "health.view_scorecard"),
    ("imports", _("Import"), "integrations.add_importjob"),
    ("integrations-stripe", _("Stripe"), "integrations.view_stripeevent"),
]


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    path = request.path
    items = []
    for name, label, permission in NAVIGATION:
        if permission and not can(user, permission):
            continue
        url = reverse(name)
        items.append({"url": url, "label": label, "active": path.startswith(url)})
    return {"nav_items": items}
