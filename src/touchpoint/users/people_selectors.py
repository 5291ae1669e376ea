"""Reads for the People pages: who uses Touchpoint, with their role and status."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from touchpoint.users.models import SignInLink, SignInLinkPurpose, User
from touchpoint.users.roles import Role

STATUSES = ("active", "invited", "deactivated")


def _pending_invitation() -> Exists:
    return Exists(
        SignInLink.objects.filter(
            user=OuterRef("pk"),
            purpose=SignInLinkPurpose.INVITE,
            used_at__isnull=True,
            revoked_at__isnull=True,
        )
    )


def people(*, role: str = "", status: str = "", search: str = "") -> QuerySet[User]:
    """Everyone, by name, each with `pending_invitation` (a bool): filtered by role (a Role value),
    status (active / invited / deactivated) and a search in names and email addresses."""
    rows = User.objects.annotate(pending_invitation=_pending_invitation()).prefetch_related("groups")
    if role in Role.values:
        rows = rows.filter(groups__name=role)
    if status == "active":
        rows = rows.filter(is_active=True)
    elif status == "invited":
        rows = rows.filter(is_active=False, pending_invitation=True)
    elif status == "deactivated":
        rows = rows.filter(is_active=False, pending_invitation=False)
    search = search.strip()
    if search:
        rows = rows.filter(Q(full_name__icontains=search) | Q(email__icontains=search))
    return rows.order_by("full_name", "email", "pk")


def status_of(user: User) -> str:
    """active, invited or deactivated (uses `pending_invitation` when the row was annotated)."""
    if user.is_active:
        return "active"
    pending = getattr(user, "pending_invitation", None)
    if pending is None:
        pending = SignInLink.objects.filter(
            user=user, purpose=SignInLinkPurpose.INVITE, used_at__isnull=True, revoked_at__isnull=True
        ).exists()
    return "invited" if pending else "deactivated"


def latest_links(user: User, limit: int = 5) -> list[SignInLink]:
    """The person's most recent links (invitations and resets), newest first."""
    return list(SignInLink.objects.filter(user=user).select_related("created_by")[:limit])
