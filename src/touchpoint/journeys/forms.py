"""The journeys pages' forms: a new journey, a step edited in place, the YAML, adding to a journey,
delivery settings and webhook endpoints.

A step's form is built from the step's own pydantic model (journeys/definition.py), so a field added
there shows up here: numbers become number inputs, a Literal a select, a list of Literals checkboxes,
a condition a small YAML box.
"""

from __future__ import annotations

import secrets
import types
import typing
from typing import Any, Literal

import yaml
from django import forms
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel

from touchpoint.accounts.models import Account, Contact
from touchpoint.journeys import labels, survey_steps
from touchpoint.journeys.models import DeliverySettings, Journey, WebhookEndpoint
from touchpoint.journeys.selectors import live_journeys

KEY_PATTERN = r"^[a-z0-9][a-z0-9-]{0,79}$"

# What the builder lets a person add, with the smallest valid step of each kind.
NEW_STEPS: dict[str, Any] = {
    "wait": (_("Wait"), {"type": "wait", "days": 1}),
    "email": (_("Email"), {"type": "email", "message": ""}),
    "in_app": (_("In-app message"), {"type": "in_app", "message": ""}),
    "task": (_("Task for the owner"), {"type": "task", "title": "Follow up"}),
    "split": (
        _("Condition split"),
        {"type": "split", "when": {"field": "account.health_grade", "op": "eq", "value": "green"}},
    ),
    "random": (
        _("A/B split"),
        {"type": "random", "arms": [{"arm": "A", "percent": 50}, {"arm": "B", "percent": 50}]},
    ),
    "tag": (_("Tag"), {"type": "tag", "tag": "journey"}),
    "set_attribute": (_("Set an attribute"), {"type": "set_attribute", "name": "attribute", "value": ""}),
    "playbook": (_("Start a playbook"), {"type": "playbook", "playbook": "Onboarding"}),
    "webhook": (_("Webhook"), {"type": "webhook", "endpoint": "crm"}),
    "set_phase": (_("Set phase"), {"type": "set_phase", "phase": "Onboarding"}),
    "exit": (_("Exit"), {"type": "exit"}),
}


def new_steps() -> dict[str, Any]:
    """The kinds of step the builder can add: NEW_STEPS, and a survey when an app provides surveys
    (journeys/survey_steps.py), starting on its first survey."""
    keys = provider.survey_keys() if (provider := survey_steps.survey_provider()) else []
    if not keys:
        return NEW_STEPS
    return {**NEW_STEPS, "survey": (_("Send a survey"), {"type": "survey", "survey": keys[0]})}


# Fields the step form does not show: the id is the step's name in paths and stats, branches are
# edited as steps of their own.
# The names of the steps' fields as the form shows them (the YAML keys are the same in every language).
FIELD_LABELS = {
    "label": _("Label (what the builder shows)"),
    "days": _("Days"),
    "hours": _("Hours"),
    "until": _("Until"),
    "days_before": _("Days before (negative: after)"),
    "event": _("Event"),
    "timeout_days": _("Time-out (days)"),
    "on_timeout": _("On time-out"),
    "to": _("To"),
    "by_engagement": _("By engagement model (high-touch: a task instead)"),
    "task_title": _("Task title (high-touch)"),
    "title": _("Title"),
    "notes": _("Notes"),
    "task_type": _("Task type"),
    "priority": _("Priority"),
    "due_in_days": _("Due in (days)"),
    "playbook": _("Playbook"),
    "endpoint": _("Webhook endpoint"),
    "phase": _("Phase"),
    "name": _("Attribute"),
    "value": _("Value"),
    "tag": _("Tag"),
    "remove": _("Remove the tag"),
    "survey": _("Survey"),
    "channel": _("Channel"),
    "reason": _("Reason"),
}

NOT_EDITED = {"id", "type", "then", "else_", "arms", "steps"}
CONDITION_FIELDS = {"when"}


class NewJourneyForm(forms.Form):
    template = forms.ChoiceField(label=_("Start from"), required=False)
    name = forms.CharField(label=_("Name"), max_length=200)
    key = forms.RegexField(
        label=_("Key"),
        regex=KEY_PATTERN,
        max_length=80,
        required=False,
        help_text=_("Lowercase letters, digits and dashes; empty: made from the name."),
        error_messages={
            "invalid": _("Use lowercase letters, digits and dashes, starting with a letter or digit.")
        },
    )

    def __init__(self, *args: Any, templates: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.templates = {template.key: template for template in templates}
        choices = [("", _("A blank journey"))] + [(template.key, template.name) for template in templates]
        self.fields["template"].choices = choices  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        key = cleaned.get("key") or slugify(cleaned.get("name", ""))[:80].strip("-")
        if not key or not key[0].isalnum():
            self.add_error("key", _("Give the journey a key: lowercase letters, digits and dashes."))
            return cleaned
        if Journey.objects.filter(key=key).exists():
            self.add_error("key", _("A journey with this key exists already."))
        cleaned["key"] = key
        return cleaned

    def source(self) -> str:
        """The first version's YAML: the chosen template under the new key and name, or a blank journey."""
        key, name = self.cleaned_data["key"], self.cleaned_data["name"]
        template = self.templates.get(self.cleaned_data.get("template") or "")
        if template is None:
            data: dict[str, Any] = {
                "key": key,
                "name": name,
                "entry": {"trigger": "manual"},
                "steps": [{"id": "first-wait", "type": "wait", "days": 1}],
            }
        else:
            data = yaml.safe_load(template.source)
            data["key"], data["name"] = key, name
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


class SourceForm(forms.Form):
    source = forms.CharField(
        label=_("YAML"),
        widget=forms.Textarea(attrs={"rows": 24, "class": "code", "spellcheck": "false"}),
        max_length=200_000,
        strip=False,
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class AddStepForm(forms.Form):
    after = forms.CharField(max_length=64, required=False)  # the step it follows ("" = first)
    into = forms.CharField(max_length=100, required=False)  # "<split id>:then" for an empty branch
    type = forms.ChoiceField(label=_("Step"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = [  # type: ignore[attr-defined]
            (key, label) for key, (label, _d) in new_steps().items()
        ]


def _optional(annotation: Any) -> tuple[Any, bool]:
    """(the type inside Optional[...], whether None is allowed)."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        inner = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        allows_none = len(inner) < len(typing.get_args(annotation))
        if len(inner) == 1:
            return inner[0], allows_none
        return annotation, allows_none
    return annotation, False


def _form_field(name: str, info: Any, *, messages: list[str]) -> forms.Field | None:
    label = FIELD_LABELS.get(name, name)
    if name in CONDITION_FIELDS:
        return forms.CharField(
            label=_("Condition (YAML)"),
            widget=forms.Textarea(attrs={"rows": 3, "class": "code", "spellcheck": "false"}),
            max_length=5000,
            help_text=operators_help(),
        )
    if name == "message":
        return forms.ChoiceField(label=_("Message"), choices=[(key, key) for key in messages] or [("", "—")])
    if name == "survey" and (provider := survey_steps.survey_provider()) is not None:
        return forms.ChoiceField(label=label, choices=[(key, key) for key in provider.survey_keys()])
    annotation, allows_none = _optional(info.annotation)
    origin = typing.get_origin(annotation)
    if annotation is bool:
        return forms.BooleanField(label=label, required=False)
    if annotation is int:
        return forms.IntegerField(label=label, required=allows_none is False and info.is_required())
    words = labels.FIELD_CHOICES.get(name, {})
    if origin is Literal:
        choices = [(value, words.get(value, value)) for value in typing.get_args(annotation)]
        return forms.ChoiceField(
            label=label, choices=([("", "—")] if allows_none else []) + choices, required=not allows_none
        )
    if origin is list and typing.get_origin(typing.get_args(annotation)[0]) is Literal:
        values = typing.get_args(typing.get_args(annotation)[0])
        return forms.MultipleChoiceField(
            label=label,
            choices=[(value, words.get(value, value)) for value in values],
            widget=forms.CheckboxSelectMultiple,
        )
    if annotation is str:
        required = info.is_required() and not allows_none
        if name in ("notes",):
            return forms.CharField(label=label, required=False, widget=forms.Textarea(attrs={"rows": 3}))
        return forms.CharField(label=label, required=required, max_length=5000)
    # A scalar of any kind (set_attribute's value): written as YAML, so 3 is a number and "3" text.
    return forms.CharField(label=label, required=False, max_length=500, help_text=_("Written as YAML."))


def operators_help() -> str:
    """The condition box's help: each `op:` the YAML takes, with what it means in the reader's language
    (built when the form is, so in the request's language)."""
    return str(_("Operators (op): %(operators)s")) % {
        "operators": ", ".join(f"{op} = {text}" for op, text in labels.OPERATORS.items())
    }


class StepForm(forms.Form):
    """One step's fields, built from its pydantic model; `changed_step()` gives the step's new data."""

    def __init__(self, *args: Any, step: BaseModel, messages: list[str], **kwargs: Any) -> None:
        self.step = step
        initial = step.model_dump(mode="json", by_alias=False)
        for name in CONDITION_FIELDS & set(initial):
            initial[name] = yaml.safe_dump(
                getattr(step, name).model_dump(mode="json", by_alias=True, exclude_defaults=True),
                sort_keys=False,
                allow_unicode=True,
                default_flow_style=True,
            ).strip()
        if "value" in initial and step.type == "set_attribute":  # type: ignore[attr-defined]
            initial["value"] = (
                yaml.safe_dump(initial["value"], default_flow_style=True).strip().removesuffix("...").strip()
            )
        for index, arm in enumerate(getattr(step, "arms", []) or []):
            initial[f"arm_{index}"] = arm.percent
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        for name, info in type(step).model_fields.items():
            if name in NOT_EDITED:
                continue
            field = _form_field(name, info, messages=messages)
            if field is not None:
                self.fields[name] = field
        for index, arm in enumerate(getattr(step, "arms", []) or []):
            self.fields[f"arm_{index}"] = forms.IntegerField(
                label=_("Arm %(arm)s, percent") % {"arm": arm.arm}, min_value=0, max_value=100
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name in CONDITION_FIELDS & set(self.fields):
            text = cleaned.get(name)
            if text is None:
                continue
            try:
                cleaned[name] = yaml.safe_load(text)
            except yaml.YAMLError as error:
                self.add_error(name, _("This is not valid YAML: %(error)s") % {"error": error})
        if "value" in self.fields and getattr(self.step, "type", "") == "set_attribute":
            try:
                cleaned["value"] = yaml.safe_load(cleaned.get("value") or "null")
            except yaml.YAMLError as error:
                self.add_error("value", _("This is not valid YAML: %(error)s") % {"error": error})
        return cleaned

    def changed_step(self) -> dict[str, Any]:
        """The step as plain data (aliases as the YAML writes them), with this form's values."""
        data = self.step.model_dump(mode="json", by_alias=True)
        for name, value in self.cleaned_data.items():
            if name.startswith("arm_"):
                data["arms"][int(name.removeprefix("arm_"))]["percent"] = value
                continue
            info = type(self.step).model_fields.get(name)
            if info is None:
                continue
            if value in ("", None) and _optional(info.annotation)[1]:
                value = None
            elif value is None and info.default is not None and not info.is_required():
                value = info.default
            data[info.alias or name] = value
        return data


class AddToJourneyForm(forms.Form):
    journey = forms.ModelChoiceField(label=_("Journey"), queryset=Journey.objects.none())
    contact = forms.ModelChoiceField(
        label=_("Contact"),
        queryset=Contact.objects.none(),
        required=False,
        help_text=_("For journeys that write to people."),
    )

    def __init__(self, *args: Any, account: Account, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["journey"].queryset = live_journeys()  # type: ignore[attr-defined]
        self.fields["contact"].queryset = account.contacts.order_by("name")  # type: ignore[attr-defined]


class TakeOutForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300)


class ConsentForm(forms.Form):
    contact = forms.IntegerField(min_value=1)
    subscribed = forms.BooleanField(required=False)


class DeliverySettingsForm(forms.ModelForm):
    class Meta:
        model = DeliverySettings
        fields = [
            "weekly_email_cap",
            "quiet_hours_start",
            "quiet_hours_end",
            "track_opens_and_clicks",
            "from_address",
        ]
        widgets = {
            "quiet_hours_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "quiet_hours_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    secret = forms.CharField(
        label=_("Signing secret"),
        max_length=128,
        required=False,
        help_text=_("Empty: a random one is made. The receiver checks each request's signature with it."),
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["name", "url", "secret", "is_active"]

    def clean_secret(self) -> str:
        return self.cleaned_data.get("secret") or secrets.token_hex(32)
