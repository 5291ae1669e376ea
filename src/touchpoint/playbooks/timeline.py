"""The timeline kinds the playbooks app records: a playbook started, stopped or completed."""

from __future__ import annotations

from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from touchpoint.accounts.models import TimelineEntry
from touchpoint.accounts.timeline import register_kind


def _describe_started(entry: TimelineEntry) -> str:
    text = gettext("Playbook started: %(name)s") % {"name": entry.data.get("playbook", "")}
    moved = int(entry.data.get("moved_to_today") or 0)
    if moved:
        text += " " + ngettext(
            "(%(count)d step was already past its day: due today)",
            "(%(count)d steps were already past their day: due today)",
            moved,
        ) % {"count": moved}
    return text


def _describe_stopped(entry: TimelineEntry) -> str:
    return gettext("Playbook stopped: %(name)s (%(reason)s)") % {
        "name": entry.data.get("playbook", ""),
        "reason": entry.data.get("reason", ""),
    }


def _describe_completed(entry: TimelineEntry) -> str:
    return gettext("Playbook completed: %(name)s (%(done)s of %(steps)s steps done)") % {
        "name": entry.data.get("playbook", ""),
        "done": entry.data.get("done", 0),
        "steps": entry.data.get("steps", 0),
    }


register_kind("playbook_started", label=_("Playbook started"), icon="play", describe=_describe_started)
register_kind("playbook_stopped", label=_("Playbook stopped"), icon="stop", describe=_describe_stopped)
register_kind(
    "playbook_completed", label=_("Playbook completed"), icon="check-circle", describe=_describe_completed
)
