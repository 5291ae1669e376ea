"""Revenue's sections of the home page: renewals coming in the next 120 days, and those overdue.

Registered from RevenueConfig.ready(). Each section is one query whatever the size of the book
(opportunities with their subscription, account, owner and latest health grade joined in).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils.translation import gettext_lazy as _

from touchpoint.home.sections import HomeScope, home_sections
from touchpoint.revenue import renewal_selectors

HORIZON_DAYS = 120
LIMIT = 20  # the home page points at the renewals page for the rest


def upcoming_renewals(scope: HomeScope) -> dict[str, Any]:
    """Open renewals due today to 120 days out in the scope's books, soonest first."""
    found = list(
        renewal_selectors.opportunities(
            reader=scope.viewer,
            scope=scope.accounts_q("account__"),
            due_after=scope.today,
            due_before=scope.today + timedelta(days=HORIZON_DAYS),
            open_only=True,
            today=scope.today,
        )[: LIMIT + 1]
    )
    rows = renewal_selectors.rows(found[:LIMIT], scope.today)
    return {"items": rows, "more": len(found) > LIMIT, "horizon": HORIZON_DAYS}


def overdue_renewals(scope: HomeScope) -> dict[str, Any]:
    """Open renewals whose date has passed in the scope's books, oldest first."""
    found = list(
        renewal_selectors.overdue(
            reader=scope.viewer, scope=scope.accounts_q("account__"), today=scope.today
        )[: LIMIT + 1]
    )
    rows = renewal_selectors.rows(found[:LIMIT], scope.today)
    return {"items": rows, "more": len(found) > LIMIT, "overdue": True}


def register() -> None:
    home_sections.add(
        key="renewals-overdue",
        title=_("Overdue renewals"),
        template="revenue/_home_renewals.html",
        items=overdue_renewals,
        order=25,
        permission="revenue.view_subscription",
    )
    home_sections.add(
        key="renewals-upcoming",
        title=_("Renewals in the next 120 days"),
        template="revenue/_home_renewals.html",
        items=upcoming_renewals,
        order=30,
        permission="revenue.view_subscription",
    )
