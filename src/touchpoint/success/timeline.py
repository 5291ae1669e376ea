"""The timeline kinds the success app records (registered from SuccessConfig.ready())."""

from __future__ import annotations

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from touchpoint.accounts.models import TimelineEntry
from touchpoint.accounts.timeline import register_kind


def _describe_phase_changed(entry: TimelineEntry) -> str:
    changes = entry.data["changes"]
    phase = changes.get("phase", [None, None])[1]
    framework = changes.get("framework", [None, None])[1]
    if phase:
        return gettext("Moved to phase %(phase)s") % {"phase": phase}
    if framework:
        return gettext("Moved to success framework %(framework)s") % {"framework": framework}
    return gettext("Removed from its lifecycle phase")


register_kind("phase_changed", label=_("Phase changed"), icon="compass", describe=_describe_phase_changed)


def _describe_milestone_reached(entry: TimelineEntry) -> str:
    name = entry.data.get("milestone", "")
    if entry.data.get("source") == "manual":
        return gettext("Reached milestone %(milestone)s (confirmed by the customer)") % {"milestone": name}
    return gettext("Reached milestone %(milestone)s") % {"milestone": name}


register_kind(
    "milestone_reached", label=_("Milestone reached"), icon="flag", describe=_describe_milestone_reached
)
