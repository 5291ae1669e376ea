"""The timeline kind the plans app records: every change to a success plan, said in the reader's language."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from touchpoint.accounts.models import TimelineEntry
from touchpoint.accounts.timeline import register_kind

# What changed (the entry's data["change"]) -> the sentence shown; %(what)s names the thing changed.
CHANGES = {
    "created": _("Success plan written: %(what)s"),
    "details": _("Success plan renamed or summarised: %(what)s"),
    "objective_added": _("Objective added to the success plan: %(what)s"),
    "objective_changed": _("Objective changed in the success plan: %(what)s"),
    "objective_removed": _("Objective removed from the success plan: %(what)s"),
    "kpi_added": _("KPI added to the success plan: %(what)s"),
    "kpi_changed": _("KPI updated in the success plan: %(what)s"),
    "kpi_removed": _("KPI removed from the success plan: %(what)s"),
    "stakeholder_added": _("Stakeholder named in the success plan: %(what)s"),
    "stakeholder_removed": _("Stakeholder removed from the success plan: %(what)s"),
    "milestone_added": _("Milestone added to the success plan: %(what)s"),
    "milestone_changed": _("Milestone updated in the success plan: %(what)s"),
    "milestone_removed": _("Milestone removed from the success plan: %(what)s"),
    "agreed": _("Success plan agreed with the customer: %(what)s"),
    "closed": _("Success plan closed: %(what)s"),
    "reopened": _("Success plan reopened: %(what)s"),
    "replaced": _("Success plan replaced through the API: %(what)s"),
    "shared": _("Success plan shared with the customer: %(what)s"),
    "share_revoked": _("Success plan link revoked: %(what)s"),
}


def _describe(entry: TimelineEntry) -> str:
    sentence = CHANGES.get(entry.data.get("change", ""))
    if sentence is None:
        return entry.title
    return str(sentence) % {"what": entry.data.get("what", "")}


def _plan_page(entry: TimelineEntry) -> str | None:
    return reverse("account-success-plan", args=[entry.account_id])


register_kind(
    "plan_changed", label=_("Success plan changed"), icon="flag", describe=_describe, link=_plan_page
)
