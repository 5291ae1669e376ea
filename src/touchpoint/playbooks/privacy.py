"""Playbooks' part of the privacy export and erasure: runs and their steps that name the person."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from touchpoint.playbooks.models import PlaybookRun, PlaybookRunStep
from touchpoint.privacy.registry import Part, holders, parts_holder


def register() -> None:
    holders.add(
        parts_holder(
            "playbooks",
            _("Playbooks"),
            [
                Part(PlaybookRun, text=("occurrence_key", "stopped_reason")),
                Part(PlaybookRunStep, text=("title",)),
            ],
            order=46,
        )
    )
