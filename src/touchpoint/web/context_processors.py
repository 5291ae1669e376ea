"""What every page's layout needs: the navigation and what the signed-in person may do."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from touchpoint.users.selectors import user_can_write

# (url name, label). Later apps add their pages here.
NAVIGATION = [
    ("portfolio", _("Portfolio")),
]


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "can_write": False}
    path = request.path
    items = []
    for name, label in NAVIGATION:
        url = reverse(name)
        items.append({"url": url, "label": label, "active": path.startswith(url)})
    return {"nav_items": items, "can_write": user_can_write(user)}
