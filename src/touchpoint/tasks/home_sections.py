"""The home page's "Overdue and due" section: the open tasks of the page's books (and the page's
people's tasks about no account) that are overdue or due within a week, most urgent first (registered
from TasksConfig.ready())."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from touchpoint.home.sections import HomeScope, home_sections
from touchpoint.tasks import selectors

SHOWN = 20


def overdue_and_due(scope: HomeScope) -> dict[str, Any]:
    """Three queries however large the books: the counts, the first rows, and which of them the
    viewer may change (for the Complete buttons)."""
    rows, total, overdue = selectors.due_for_home(
        accounts_q=scope.accounts_q("account__"),
        viewer=scope.viewer,
        owner_ids=scope.owner_ids,
        today=scope.today,
        limit=SHOWN,
    )
    changeable = selectors.changeable_task_ids(scope.viewer, rows)
    return {"items": rows, "total": total, "overdue": overdue, "changeable": changeable}


def register() -> None:
    home_sections.add(
        key="tasks",
        title=_("Overdue and due"),
        template="tasks/_home_tasks.html",
        items=overdue_and_due,
        order=10,
        permission="tasks.view_task",
    )
