"""Health on the home page and in alerts: grades that fell since last week, and the measure behind it.

The section compares each account's latest score with its score a week before (the last one on or
before that day) and lists those whose grade fell (green → yellow or red, yellow → red), with the
measure whose contribution to the score fell most (`scoring.contributions`: a measure's points
weighted as the score adds them). Four queries, however large the book.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Max, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from touchpoint.health.measures import get_measure
from touchpoint.health.models import Grade, HealthScore
from touchpoint.health.scoring import contributions

SHOWN = 10
# Grades from best to worst; "unknown" is no grade, so moving to or from it is not a fall.
RANK = {Grade.GREEN: 2, Grade.YELLOW: 1, Grade.RED: 0}
FELL = Q(grade=Grade.RED, week_ago_grade__in=[Grade.GREEN, Grade.YELLOW]) | Q(
    grade=Grade.YELLOW, week_ago_grade=Grade.GREEN
)


def grade_fell(before: str, after: str) -> bool:
    return before in RANK and after in RANK and RANK[after] < RANK[before]  # type: ignore[index]


def biggest_fall(now: dict[str, Any], before: dict[str, Any]) -> str | None:
    """The measure whose part of the score fell most between two stored scores (None if none fell)."""
    now_parts, before_parts = contributions(now), contributions(before)
    falls = {
        key: now_parts[key] - before_parts[key]
        for key in now_parts.keys() & before_parts.keys()
        if now_parts[key] < before_parts[key]
    }
    if not falls:
        return None
    return min(sorted(falls), key=lambda key: falls[key])


def measure_label(key: str | None) -> str:
    if not key:
        return ""
    measure = get_measure(key)
    return str(measure.label) if measure is not None else key


def grades_fallen(scope) -> dict[str, Any]:
    """Accounts of the scope whose grade fell since a week before their latest score."""
    latest = HealthScore.objects.aggregate(day=Max("day"))["day"]
    if latest is None:
        return {"items": [], "count": 0}
    week_before = latest - timedelta(days=7)
    before = HealthScore.objects.filter(
        account_id=OuterRef("account_id"), day__lte=week_before, day__gt=week_before - timedelta(days=7)
    ).order_by("-day")
    fallen = (
        HealthScore.objects.filter(scope.accounts_q("account__"), day=latest)
        .annotate(
            week_ago_grade=Subquery(before.values("grade")[:1]),
            week_ago_id=Subquery(before.values("pk")[:1]),
        )
        .filter(FELL)
    )
    count = fallen.count()
    rows = list(fallen.select_related("account").order_by("score", "account__name")[:SHOWN]) if count else []
    then = HealthScore.objects.in_bulk([row.week_ago_id for row in rows]) if rows else {}
    items = []
    for row in rows:
        previous = then.get(row.week_ago_id)
        measure = biggest_fall(row.measures, previous.measures) if previous is not None else None
        items.append(
            {
                "account": row.account,
                "url": reverse("account-detail", kwargs={"account_id": row.account_id}),
                "grade": row.grade,
                "grade_label": Grade(row.grade).label,
                "was": row.week_ago_grade,
                "was_label": Grade(row.week_ago_grade).label,
                "score": row.score,
                "was_score": previous.score if previous is not None else None,
                "measure": measure_label(measure),
            }
        )
    return {"items": items, "count": count, "more": max(0, count - SHOWN), "day": latest}


def register() -> None:
    from touchpoint.home.sections import home_sections

    home_sections.add(
        key="health-fell",
        title=_("Health fell since last week"),
        template="health/_home_grades_fell.html",
        items=grades_fallen,
        order=30,
        permission="health.view_healthscore",
    )


# --- Alerts -------------------------------------------------------------------------------------


def grade_fell_alerts(event) -> list:
    """A `health.grade_changed` event that is a fall: an alert to the account's owner and team CSMs."""
    from touchpoint.accounts.models import Account
    from touchpoint.home.alerts import AlertDraft, account_people

    before, after = event.payload.get("previous_grade", ""), event.payload.get("grade", "")
    if not grade_fell(before, after):
        return []
    account = Account.objects.filter(pk=event.account_id).only("name").first()
    if account is None:
        return []
    return [
        AlertDraft(
            recipient_ids=account_people(account.pk),
            title=f"Health of {account.name} fell from {before} to {after}",
            url=reverse("account-detail", kwargs={"account_id": account.pk}),
            account_id=account.pk,
            data={"account": account.name, "from": before, "to": after},
        )
    ]


def describe_grade_fell(alert) -> str:
    return gettext("Health of %(account)s fell from %(from)s to %(to)s") % {
        "account": alert.data["account"],
        "from": Grade(alert.data["from"]).label,
        "to": Grade(alert.data["to"]).label,
    }


def register_alerts() -> None:
    from touchpoint.home.alerts import register_alert

    register_alert("health.grade_changed", grade_fell_alerts, describe=describe_grade_fell)
