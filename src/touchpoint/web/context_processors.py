"""What every page's layout needs: the navigation and what the signed-in person may do."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse

from touchpoint.web.navigation import nav


def navigation(request: HttpRequest) -> dict:
    """The navigation entries the apps registered (web/navigation.py) that this person may see."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    path = request.path
    items = []
    for entry in nav.visible_to(user):
        url = reverse(entry.url_name)
        active = path.startswith(entry.prefix or url)
        items.append({"key": entry.key, "url": url, "label": entry.label, "active": active})
    return {"nav_items": items}
