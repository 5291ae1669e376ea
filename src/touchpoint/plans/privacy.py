"""Success plans' part of the privacy export and erasure: the person as a stakeholder, KPI owner or
the one who agreed a plan stays linked to their (anonymised) contact; texts that name them are scrubbed."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from touchpoint.plans.models import PlanKpi, PlanMilestone, PlanObjective, PlanStakeholder, SuccessPlan
from touchpoint.privacy.registry import Part, contact_of, holders, parts_holder


def register() -> None:
    holders.add(
        parts_holder(
            "plans",
            _("Success plans"),
            [
                Part(SuccessPlan, about=contact_of("agreed_by"), text=("title", "summary")),
                Part(PlanStakeholder, about=contact_of()),
                Part(PlanKpi, about=contact_of("owner"), text=("name",)),
                Part(PlanObjective, text=("text",)),
                Part(PlanMilestone, text=("title",)),
            ],
            order=48,
        )
    )
