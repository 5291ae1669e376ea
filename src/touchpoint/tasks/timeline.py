"""The timeline kinds the tasks app records: a task done or cancelled is a touch on the account."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from touchpoint.accounts.models import TimelineEntry
from touchpoint.accounts.timeline import register_kind


def _describe_done(entry: TimelineEntry) -> str:
    return gettext("Task done: %(title)s") % {"title": entry.data.get("title", "")}


def _describe_cancelled(entry: TimelineEntry) -> str:
    return gettext("Task cancelled: %(title)s (%(reason)s)") % {
        "title": entry.data.get("title", ""),
        "reason": entry.data.get("reason", ""),
    }


def _task_page(entry: TimelineEntry) -> str | None:
    return reverse("task-detail", args=[entry.subject_id]) if entry.subject_id else None


register_kind(
    "task_done", label=_("Task done"), icon="check-circle", describe=_describe_done, link=_task_page
)
register_kind(
    "task_cancelled",
    label=_("Task cancelled"),
    icon="x-circle",
    describe=_describe_cancelled,
    link=_task_page,
)
