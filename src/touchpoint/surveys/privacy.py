"""Surveys' part of the privacy export and erasure: answers stay (scores count) without their comment's
mentions; "not now" declines are deleted. Invitations are journey outbox rows (journeys/privacy.py)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from touchpoint.privacy.registry import Part, contact_of, holders, parts_holder
from touchpoint.surveys.models import Answer, Decline


def register() -> None:
    holders.add(
        parts_holder(
            "surveys",
            _("Survey answers"),
            [
                Part(Answer, about=contact_of(), text=("comment", "external_id")),
                Part(Decline, about=contact_of(), erase="delete"),
            ],
            order=41,
        )
    )
