"""What tasks add to the shared screens (registered from TasksConfig.ready()): the Tasks page in the
menu, the account page's tasks panel and header fact, the portfolio's "Open tasks" column (sortable)
and CSV column."""

from __future__ import annotations

from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from touchpoint.tasks.selectors import with_open_tasks


def open_task_counts(qs: QuerySet) -> QuerySet:
    """`open_tasks` and `overdue_tasks` on each account (subqueries, counted as of today)."""
    return with_open_tasks(qs, today=timezone.localdate())


def register() -> None:
    from touchpoint.accounts.panels import account_header_facts, account_panels
    from touchpoint.accounts.portfolio import portfolio_columns, portfolio_export_columns
    from touchpoint.web.navigation import nav

    nav.add(key="tasks", label=_("Tasks"), url_name="tasks", permission="tasks.view_task", order=5)
    account_panels.add(
        key="tasks", title=_("Tasks"), url_name="account-tasks", order=5, permission="tasks.view_task"
    )
    account_header_facts.add(
        key="open_tasks",
        label=_("Open tasks"),
        template="tasks/_header_fact.html",
        order=80,
        permission="tasks.view_task",
        annotate=open_task_counts,
    )
    portfolio_columns.add(
        key="open_tasks",
        label=_("Open tasks"),
        order=70,
        template="tasks/_portfolio_cell.html",
        css_class="num",
        queryset=open_task_counts,
        sort=(F("open_tasks").asc(), "name_lower", "id"),
        sort_desc=(F("open_tasks").desc(), F("overdue_tasks").desc(), "name_lower", "id"),
    )
    portfolio_export_columns.add(
        header="open_tasks", order=130, queryset=open_task_counts, value=lambda account: account.open_tasks
    )
