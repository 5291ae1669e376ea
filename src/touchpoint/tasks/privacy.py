"""Tasks' part of the privacy export and erasure: tasks that name the person keep their facts, without
the name, email or phone in their title, notes or label."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from touchpoint.privacy.registry import Part, holders, parts_holder
from touchpoint.tasks.models import Task


def register() -> None:
    holders.add(
        parts_holder(
            "tasks",
            _("Tasks"),
            [Part(Task, text=("title", "notes", "about_label", "cancel_reason"))],
            order=45,
        )
    )
