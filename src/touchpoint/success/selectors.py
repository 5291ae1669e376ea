"""Reads about success frameworks, phases and where accounts stand in them."""

from __future__ import annotations

from django.db.models import QuerySet

from touchpoint.success.models import AccountPlacement, LifecyclePhase


def phases_for_filter() -> QuerySet[LifecyclePhase]:
    """Every phase of every framework, in framework and journey order, for filter menus."""
    return LifecyclePhase.objects.select_related("framework").order_by("framework__name", "position", "id")


def placement_for(account_id: int) -> AccountPlacement | None:
    return AccountPlacement.objects.select_related("framework", "phase").filter(account_id=account_id).first()
