"""The words the journeys pages show for the YAML's own words, in the reader's language.

A journey's YAML keeps its words in every language (`then`, `else`, `email`, `until: renewal`,
`op: gte`…): they are the format. The builder's step forms, the facts above the flow and the
simulation's paths and messages show these labels instead; `label(mapping, value)` gives a word's
label, or the word itself when it has none (an arm's name, a step id: the author's own words).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

STEP_TYPES: dict[str, Any] = {
    "wait": _("Wait"),
    "split": _("Condition split"),
    "random": _("A/B split"),
    "email": _("Email"),
    "in_app": _("In-app message"),
    "task": _("Task for the owner"),
    "playbook": _("Start a playbook"),
    "webhook": _("Webhook"),
    "set_phase": _("Set phase"),
    "set_attribute": _("Set an attribute"),
    "tag": _("Tag"),
    "survey": _("Survey"),
    "exit": _("Exit"),
}

# The step forms' choice lists, by the step field they fill.
FIELD_CHOICES: dict[str, dict[str, Any]] = {
    "until": {"renewal": _("the renewal"), "subscription_start": _("the subscription start")},
    "on_timeout": {
        "continue": _("Go on to the next step"),
        "exit": _("Leave the journey"),
    },
    "to": {
        "subject": _("The subject (the contact, or the account's contacts)"),
        "champion": _("Champion"),
        "decision_maker": _("Decision maker"),
        "kpi_owner": _("KPI owner"),
        "user": _("User"),
        "billing": _("Billing"),
    },
    "task_type": {
        "call": _("Call"),
        "meeting": _("Meeting"),
        "review": _("Review"),
        "risk": _("Risk"),
        "renewal": _("Renewal"),
        "onboarding": _("Onboarding"),
        "other": _("Other"),
    },
    "priority": {"high": _("High"), "normal": _("Normal"), "low": _("Low")},
    "channel": {"email": _("Email"), "in_app": _("In-app message")},
}

ROLES = FIELD_CHOICES["to"]

REENTRY = {
    "never": _("Never: once per subject"),
    "after_exit": _("Again once they have left"),
    "after_days": _("Again after some days"),
}

# The condition operators (`op:`), for the help beside a condition box.
OPERATORS: dict[str, Any] = {
    "eq": _("equals"),
    "ne": _("differs from"),
    "in": _("is one of"),
    "not_in": _("is none of"),
    "gt": _("is more than"),
    "gte": _("is at least"),
    "lt": _("is less than"),
    "lte": _("is at most"),
    "exists": _("has a value"),
    "missing": _("has no value"),
    "contains": _("contains"),
}

# How a step was left, by the kind of step (interpreter.advance's outcomes); an arm keeps its name.
OUTCOMES: dict[str, dict[str, Any]] = {
    "wait": {
        "done": pgettext_lazy("a wait step's outcome", "waited"),
        "event": pgettext_lazy("a wait step's outcome", "the event came"),
        "timeout": pgettext_lazy("a wait step's outcome", "timed out"),
    },
    "split": {"then": _("then"), "else": _("else")},
    "exit": {"exit": pgettext_lazy("a step's outcome", "left the journey")},
}

ENDED = {
    "converted": _("Converted"),
    "exited": _("Exited"),
    "completed": _("Completed"),
    "active": pgettext_lazy("an enrollment still in the journey", "Still in it"),
}

MESSAGE_KINDS = {"email": _("Email"), "in_app": _("In-app message")}

MESSAGE_STATUSES = {
    "sent": pgettext_lazy("a simulated message", "sent"),
    "deferred": pgettext_lazy("a simulated message", "after the quiet hours"),
    "capped": pgettext_lazy("a simulated message", "held back by the weekly cap"),
    "unsubscribed": pgettext_lazy("a simulated message", "unsubscribed"),
    "no_address": pgettext_lazy("a simulated message", "no address"),
}

SIMULATION_STAGES = {
    "history": _("Reading the history"),
    "entries": _("Following who would have entered"),
    "messages": _("Writing the messages"),
}


def label(mapping: dict[str, Any], value: Any) -> str:
    """The label of a YAML word, in the active language; the word itself when it has none."""
    found = mapping.get(value) if isinstance(value, str) else None
    return str(found) if found is not None else ("" if value is None else str(value))


def outcome(step_type: str, value: str) -> str:
    """How a step of this type was left, as a reader says it ("then", "timed out"); an arm's name as is."""
    return label(OUTCOMES.get(step_type, {}), value)
