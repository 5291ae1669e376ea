"""What health adds to the portfolio: the health column (score, grade, sparkline), the grade filter,
the distribution above the results; and to the account page: the health panel. Registered from
HealthConfig.ready()."""

from __future__ import annotations

from django import forms
from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.utils.translation import gettext_lazy as _

from touchpoint.health.models import HealthScore

GRADE_CHOICES = [
    ("", _("All grades")),
    ("green", _("Green")),
    ("yellow", _("Yellow")),
    ("red", _("Red")),
    ("unknown", _("Unknown")),
]


def with_health(qs: QuerySet) -> QuerySet:
    """Each account's latest health score and grade (health_score, health_grade), as subqueries."""
    latest = HealthScore.objects.filter(account_id=OuterRef("pk")).order_by("-day")
    return qs.annotate(
        health_score=Subquery(latest.values("score")[:1]), health_grade=Subquery(latest.values("grade")[:1])
    )


def filter_by_grade(qs: QuerySet, grade: str) -> QuerySet:
    """Accounts whose latest grade is `grade`; "unknown" also takes accounts never scored."""
    if grade == "unknown":
        return qs.filter(Q(health_grade__isnull=True) | Q(health_grade="unknown"))
    return qs.filter(health_grade=grade)


def grade_field() -> forms.Field:
    return forms.ChoiceField(label=_("Health"), required=False, choices=GRADE_CHOICES)


def page_sparklines(accounts: list) -> dict[int, list[float | None]]:
    """Last 30 days of scores for the accounts on a page, in one query."""
    from touchpoint.health.selectors import sparklines

    return sparklines([account.pk for account in accounts])


def register() -> None:
    from touchpoint.accounts.panels import account_panels
    from touchpoint.accounts.portfolio import portfolio_columns, portfolio_filters, portfolio_sections

    portfolio_columns.add(
        key="health",
        label=_("Health"),
        order=20,
        template="health/_portfolio_cell.html",
        css_class="health-cell",
        queryset=with_health,
        # Unscored accounts last either way.
        sort=(F("health_score").asc(nulls_last=True), "name_lower", "id"),
        sort_desc=(F("health_score").desc(nulls_last=True), "name_lower", "id"),
        page_data=page_sparklines,
    )
    portfolio_filters.add(key="grade", field=grade_field, apply=filter_by_grade, order=60, api_type=str)
    portfolio_sections.add(key="health-distribution", url_name="health-distribution", order=10)
    account_panels.add(key="health", title=_("Health"), url_name="account-health", order=10)
