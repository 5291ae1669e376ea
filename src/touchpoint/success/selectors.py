"""Reads about success frameworks, phases and where accounts stand in them."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from touchpoint.accounts.models import TimelineEntry
from touchpoint.success.models import AccountPlacement, LifecyclePhase


def phases_for_filter() -> QuerySet[LifecyclePhase]:
    """Every phase of every framework, in framework and journey order, for filter menus."""
    return LifecyclePhase.objects.select_related("framework").order_by("framework__name", "position", "id")


def placement_for(account_id: int) -> AccountPlacement | None:
    return AccountPlacement.objects.select_related("framework", "phase").filter(account_id=account_id).first()


def phase_name_on(account_id: int, at: datetime) -> str | None:
    """The name of the account's lifecycle phase at that moment (None: not in a phase then).

    The placement holds today's phase and since when; before that, the `phase_changed` timeline
    entries (each with the phase's name before and after) tell what it was.
    """
    placement = placement_for(account_id)
    if placement is not None and placement.entered_at <= at:
        return placement.phase.name if placement.phase is not None else None
    changes = TimelineEntry.objects.filter(
        account_id=account_id, kind="phase_changed", data__changes__has_key="phase"
    ).values_list("occurred_at", "data")
    before = changes.filter(occurred_at__lte=at).order_by("-occurred_at", "-id").first()
    if before is not None:
        return before[1]["changes"]["phase"][1] or None
    after = changes.filter(occurred_at__gt=at).order_by("occurred_at", "id").first()
    if after is not None:
        return after[1]["changes"]["phase"][0] or None
    # No change was ever recorded: the account has been where it is since before we knew.
    return placement.phase.name if placement is not None and placement.phase is not None else None


def phase_named(name: str, *, account_id: int | None = None) -> LifecyclePhase | None:
    """The phase of that name in the account's framework, else in the default framework."""
    phases = LifecyclePhase.objects.select_related("framework").filter(name=name)
    if account_id is not None:
        placement = placement_for(account_id)
        if placement is not None and placement.framework_id is not None:
            own = phases.filter(framework_id=placement.framework_id).first()
            if own is not None:
                return own
    return phases.filter(framework__is_default=True).first() or phases.order_by("framework_id").first()
