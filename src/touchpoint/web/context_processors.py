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
    groups = nav.groups()
    grouped: dict[str, list[dict]] = {}
    top: list[tuple[tuple[int, str], dict]] = []
    for entry in nav.visible_to(user):
        url = reverse(entry.url_name)
        item = {
            "key": entry.key,
            "url": url,
            "label": entry.label,
            "active": path.startswith(entry.prefix or url),
        }
        if entry.group in groups:
            grouped.setdefault(entry.group, []).append(item)
        else:
            top.append(((entry.order, entry.key), item))
    for key, members in grouped.items():
        group = groups[key]
        if len(members) == 1:  # a drop-down of one entry is a detour: show the entry itself
            top.append(((group.order, key), members[0]))
            continue
        top.append(
            (
                (group.order, key),
                {
                    "key": key,
                    "label": group.label,
                    "group": True,
                    "items": members,
                    "active": any(member["active"] for member in members),
                },
            )
        )
    return {"nav_items": [item for _order, item in sorted(top, key=lambda pair: pair[0])]}
