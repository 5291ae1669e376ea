"""Reads about success frameworks and phases."""

from __future__ import annotations

from django.db.models import QuerySet

from touchpoint.success.models import LifecyclePhase


def phases_for_filter() -> QuerySet[LifecyclePhase]:
    """Every phase of every framework, in framework and journey order, for filter menus."""
    return LifecyclePhase.objects.select_related("framework").order_by("framework__name", "position", "id")
