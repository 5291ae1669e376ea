"""Accounts on the home page (silent accounts, upcoming meetings) and the "champion left" alert.

They live in home, not in accounts: home reads accounts (the bottom layer), so accounts importing home
back would make a circle (tests/test_import_graph.py).

A *touch* is a timeline entry of a kind registered as a human touch (notes, calls, meetings, emails:
`timeline.register_kind(..., is_human_touch=True)`), as health's engagement recency reads it. An
account is silent when its last touch (or, never touched, its creation) is older than the site's
threshold for its engagement model (`SiteSettings.silent_days_high_touch` / `silent_days_hybrid`);
low-touch accounts are never listed.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from touchpoint.accounts.models import (
    Account,
    ContactRole,
    Engagement,
    EngagementKind,
    EngagementModel,
    TimelineEntry,
)
from touchpoint.accounts.timeline import registered_kinds
from touchpoint.users.models import SiteSettings

SHOWN = 10
MEETINGS_AHEAD_DAYS = 14


def human_touch_kinds() -> list[str]:
    return sorted(kind.value for kind in registered_kinds() if kind.is_human_touch)


def silent_accounts(scope) -> dict[str, Any]:
    """High-touch and hybrid accounts of the scope with no touch for longer than their threshold."""
    site = SiteSettings.current()
    now = timezone.now()
    last_touch = (
        TimelineEntry.objects.filter(
            account_id=OuterRef("pk"), kind__in=human_touch_kinds(), occurred_at__lte=now
        )
        .order_by("-occurred_at")
        .values("occurred_at")[:1]
    )
    silent = (
        Account.objects.filter(scope.accounts_q())
        .filter(engagement_model__in=[EngagementModel.HIGH_TOUCH, EngagementModel.HYBRID])
        .annotate(last_touch=Subquery(last_touch))
        .annotate(quiet_since=Coalesce("last_touch", "created_at"))
        .filter(
            Q(
                engagement_model=EngagementModel.HIGH_TOUCH,
                quiet_since__lt=now - timedelta(days=site.silent_days_high_touch),
            )
            | Q(
                engagement_model=EngagementModel.HYBRID,
                quiet_since__lt=now - timedelta(days=site.silent_days_hybrid),
            )
        )
    )
    count = silent.count()
    rows = list(silent.order_by("quiet_since", "name")[:SHOWN]) if count else []
    items = [
        {
            "account": account,
            "url": reverse("account-detail", kwargs={"account_id": account.pk}),
            "last_touch": account.last_touch,
            "days": (now - account.quiet_since).days,
            "model": account.get_engagement_model_display(),
        }
        for account in rows
    ]
    return {
        "items": items,
        "count": count,
        "more": max(0, count - SHOWN),
        "thresholds": {"high": site.silent_days_high_touch, "hybrid": site.silent_days_hybrid},
    }


def upcoming_meetings(scope) -> dict[str, Any]:
    """Meetings logged with a time in the next two weeks, on the accounts of the scope."""
    now = timezone.now()
    meetings = Engagement.objects.filter(
        scope.accounts_q("account__"),
        kind=EngagementKind.MEETING,
        occurred_at__gt=now,
        occurred_at__lte=now + timedelta(days=MEETINGS_AHEAD_DAYS),
    )
    count = meetings.count()
    rows = list(meetings.select_related("account").order_by("occurred_at", "pk")[:SHOWN]) if count else []
    items = [
        {
            "meeting": meeting,
            "account": meeting.account,
            "url": reverse("account-detail", kwargs={"account_id": meeting.account_id}),
        }
        for meeting in rows
    ]
    return {"items": items, "count": count, "more": max(0, count - SHOWN)}


def register() -> None:
    from touchpoint.home.sections import home_sections

    home_sections.add(
        key="meetings",
        title=_("Upcoming meetings"),
        template="home/_home_meetings.html",
        items=upcoming_meetings,
        order=20,
        permission="accounts.view_engagement",
    )
    home_sections.add(
        key="silent",
        title=_("No touch for too long"),
        template="home/_home_silent.html",
        items=silent_accounts,
        order=40,
        permission="accounts.view_account",
    )


# --- Alerts: a champion left ---------------------------------------------------------------------


def _champion_alert(event, *, name: str, removed: bool) -> list:
    from touchpoint.home.alerts import AlertDraft, account_people

    account = Account.objects.filter(pk=event.account_id).only("name").first()
    if account is None:
        return []
    title = (
        f"Champion {name} was removed from {account.name}"
        if removed
        else f"{name} is no longer the champion at {account.name}"
    )
    return [
        AlertDraft(
            recipient_ids=account_people(account.pk),
            title=title,
            url=reverse("account-detail", kwargs={"account_id": account.pk}),
            account_id=account.pk,
            data={"account": account.name, "contact": name, "removed": removed},
        )
    ]


def champion_role_dropped(event) -> list:
    """`contact.changed` whose roles lost "champion"."""
    roles = event.payload.get("changes", {}).get("roles")
    if not roles or len(roles) != 2:
        return []
    before, after = roles
    if ContactRole.CHAMPION not in before or ContactRole.CHAMPION in after:
        return []
    from touchpoint.accounts.models import Contact

    name = Contact.objects.filter(pk=event.payload.get("contact_id")).values_list("name", flat=True).first()
    return _champion_alert(event, name=name or gettext("A contact"), removed=False)


def champion_removed(event) -> list:
    """`contact.removed` of a contact who was a champion (the event names the roles they had)."""
    if ContactRole.CHAMPION not in event.payload.get("roles", []):
        return []
    return _champion_alert(event, name=event.payload.get("name", ""), removed=True)


def describe_champion(alert) -> str:
    if alert.data["removed"]:
        template = gettext("Champion %(contact)s was removed from %(account)s")
    else:
        template = gettext("%(contact)s is no longer the champion at %(account)s")
    return template % {"contact": alert.data["contact"], "account": alert.data["account"]}


def register_alerts() -> None:
    from touchpoint.home.alerts import register_alert

    register_alert("contact.changed", champion_role_dropped, describe=describe_champion)
    register_alert("contact.removed", champion_removed, describe=describe_champion)
