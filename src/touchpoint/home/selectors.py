"""Reads for the home page: whose books it covers."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from touchpoint.home.sections import HomeScope
from touchpoint.users.models import User
from touchpoint.users.permissions import is_admin, is_csm, is_leader
from touchpoint.users.roles import Role


def team_of(leader: Any) -> QuerySet[User]:
    """The active people who report to this person (`User.reports_to`)."""
    return User.objects.filter(reports_to=leader, is_active=True).order_by("full_name", "email")


def switchable_people(viewer: Any) -> QuerySet[User]:
    """Whose day the viewer may open instead of their own: a leader their team (every CSM when nobody
    reports to them), an admin every CSM; nobody for anyone else."""
    if not (is_leader(viewer) or is_admin(viewer)):
        return User.objects.none()
    team = team_of(viewer)
    if is_leader(viewer) and team.exists():
        return team
    return User.objects.filter(is_active=True, groups__name=Role.CSM.value).order_by("full_name", "email")


def scope_for(viewer: Any, *, owner: Any = None) -> HomeScope:
    """Whose books the home page covers.

    A CSM: their own. A CS leader: their own and their team's (the people who report to them), or
    every account they may read when nobody reports to them. Admins and viewers: every account they
    may read. `owner` (one of `switchable_people(viewer)`, checked by the caller) narrows it to that
    one person's book; it is kept in `extra["owner"]`.
    """
    today = timezone.localdate()
    if owner is not None:
        return HomeScope(viewer=viewer, owner_ids=frozenset({owner.pk}), today=today, extra={"owner": owner})
    if is_csm(viewer):
        return HomeScope(viewer=viewer, owner_ids=frozenset({viewer.pk}), today=today)
    if is_leader(viewer):
        team = set(team_of(viewer).values_list("pk", flat=True))
        if team:
            return HomeScope(viewer=viewer, owner_ids=frozenset({viewer.pk, *team}), today=today)
    return HomeScope(viewer=viewer, owner_ids=None, today=today)
