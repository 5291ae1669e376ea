"""{% load journeys %}: how the builder names a step in a line, and which icon it gets."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

register = template.Library()

ICON_OF_TYPE = {
    "wait": "calendar",
    "split": "compass",
    "random": "trend-up",
    "email": "email",
    "in_app": "message",
    "task": "check-square",
    "playbook": "playbook",
    "webhook": "renewal",
    "set_phase": "flag",
    "set_attribute": "edit",
    "tag": "note",
    "survey": "message",
    "exit": "stop",
}


@register.filter
def step_icon(step: Any) -> str:
    return ICON_OF_TYPE.get(getattr(step, "type", ""), "dot")


def _days(days: int) -> str:
    return ngettext("%(count)s day", "%(count)s days", days) % {"count": days}


def _wait(step: Any) -> str:
    if step.event:
        return _("Wait for “%(event)s”, at most %(days)s") % {
            "event": step.event,
            "days": _days(step.timeout_days or 0),
        }
    if step.until:
        anchor = _("the renewal") if step.until == "renewal" else _("the subscription start")
        if step.days_before > 0:
            return _("Wait until %(days)s before %(anchor)s") % {
                "days": _days(step.days_before),
                "anchor": anchor,
            }
        if step.days_before < 0:
            return _("Wait until %(days)s after %(anchor)s") % {
                "days": _days(-step.days_before),
                "anchor": anchor,
            }
        return _("Wait until %(anchor)s") % {"anchor": anchor}
    parts = []
    if step.days:
        parts.append(_days(step.days))
    if step.hours:
        parts.append(ngettext("%(count)s hour", "%(count)s hours", step.hours) % {"count": step.hours})
    return _("Wait %(duration)s") % {"duration": " ".join(parts)}


@register.filter
def step_summary(step: Any) -> str:
    """A line that says what the step does: "Wait 7 days", "Email “welcome”", "Task: Call them"."""
    kind = getattr(step, "type", "")
    if kind == "wait":
        return _wait(step)
    if kind == "split":
        return _("If the condition holds: then, else")
    if kind == "random":
        return _("A/B split: ") + ", ".join(f"{arm.arm} {arm.percent}%" for arm in step.arms)
    if kind == "email":
        return _("Email “%(message)s”") % {"message": step.message}
    if kind == "in_app":
        return _("In-app message “%(message)s”") % {"message": step.message}
    if kind == "task":
        return _("Task for the owner: %(title)s") % {"title": step.title}
    if kind == "playbook":
        return _("Start the playbook “%(name)s”") % {"name": step.playbook}
    if kind == "webhook":
        return _("Webhook to “%(endpoint)s”") % {"endpoint": step.endpoint}
    if kind == "set_phase":
        return _("Set the phase to “%(phase)s”") % {"phase": step.phase}
    if kind == "set_attribute":
        return _("Set %(name)s to %(value)s") % {"name": step.name, "value": step.value}
    if kind == "tag":
        if step.remove:
            return _("Remove the tag “%(tag)s”") % {"tag": step.tag}
        return _("Add the tag “%(tag)s”") % {"tag": step.tag}
    if kind == "survey":
        return _("Send the survey “%(survey)s”") % {"survey": step.survey}
    if kind == "exit":
        return _("Exit") + (f": {step.reason}" if step.reason else "")
    return str(kind)


@register.filter
def by_engagement(step: Any) -> bool:
    return bool(getattr(step, "by_engagement", False))


@register.filter
def condition_text(condition: Any) -> str:
    """A condition in one line of YAML-like text."""
    import yaml

    if condition is None:
        return ""
    return yaml.safe_dump(
        condition.model_dump(mode="json", by_alias=True, exclude_defaults=True),
        default_flow_style=True,
        allow_unicode=True,
        sort_keys=False,
    ).strip()


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.filter
def percent(value: float | None) -> str:
    if value is None:
        return "—"
    return number_format(value * 100, 1) + "%"


_WORDS = {"reentry": "REENTRY", "role": "ROLES", "step_type": "STEP_TYPES"}


@register.filter
def word(value: Any, kind: str) -> str:
    """A YAML word as the reader says it (journeys/labels.py): `{{ policy|word:"reentry" }}`; a list
    (roles) as its labels joined with commas."""
    from touchpoint.journeys import labels

    mapping = getattr(labels, _WORDS[kind])
    if isinstance(value, list | tuple):
        return ", ".join(labels.label(mapping, item) for item in value)
    return labels.label(mapping, value)
