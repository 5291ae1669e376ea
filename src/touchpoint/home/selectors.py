"""Reads for the home page."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from touchpoint.home.sections import HomeScope
from touchpoint.users.permissions import is_csm


def scope_for(viewer: Any) -> HomeScope:
    """A CSM's home covers their own book; everyone else's covers every account they may read."""
    today = timezone.localdate()
    if is_csm(viewer):
        return HomeScope(viewer=viewer, owner_ids=frozenset({viewer.pk}), today=today)
    return HomeScope(viewer=viewer, owner_ids=None, today=today)
