"""Advocacy's part of the privacy export and erasure: the advocate's record and asks stay (programme
counts) with their notes scrubbed; a candidate suggestion is deleted."""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from touchpoint.advocacy.models import Activity, Advocate, Ask, Candidate, Reward
from touchpoint.privacy.registry import Part, Person, contact_of, holders, parts_holder


def _of_advocate(person: Person) -> Q:
    return Q(advocate__contact__in=person.contact_ids)


def register() -> None:
    holders.add(
        parts_holder(
            "advocacy",
            _("Advocacy"),
            [
                Part(Advocate, about=contact_of(), text=("notes",)),
                Part(Ask, about=contact_of(), text=("note", "outcome_note")),
                Part(Activity, about=_of_advocate, text=("note",)),
                Part(Reward, about=_of_advocate, text=("note",)),
                Part(Candidate, about=contact_of(), erase="delete"),
            ],
            order=44,
        )
    )
