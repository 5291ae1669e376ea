"""Ask the one permission check in a template.

{% load permissions %}
{% can "accounts.change_account" account as can_edit %}
{% if can_edit %}…{% endif %}
"""

from __future__ import annotations

from typing import Any

from django import template

from touchpoint.users.permissions import can as user_can

register = template.Library()


@register.simple_tag(takes_context=True)
def can(context: template.Context, perm: str, obj: Any = None) -> bool:
    """Whether the signed-in person may do `perm` (on `obj`, when given)."""
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    return user_can(user, perm, obj)
