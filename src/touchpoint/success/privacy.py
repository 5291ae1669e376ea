"""Success's part of the privacy export and erasure: milestones the person confirmed stay (reached is
a fact about the account), with the confirming name replaced by the pseudonym."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from touchpoint.privacy.registry import Part, contact_of, holders, parts_holder
from touchpoint.success.models import AccountPlacement, MilestoneReached


def register() -> None:
    holders.add(
        parts_holder(
            "success",
            _("Lifecycle and milestones"),
            [
                Part(
                    MilestoneReached,
                    about=contact_of("confirmed_by_contact"),
                    text=("evidence", "confirmed_by_name"),
                ),
                Part(AccountPlacement, text=("override_reason",)),
            ],
            order=47,
        )
    )
