"""The support settings forms: a webhook source, a business calendar, an SLA policy with its targets."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from touchpoint.accounts.models import Segment
from touchpoint.support.models import BusinessCalendar, Priority, SlaPolicy, WebhookSourceKind
from touchpoint.users.models import User

WEEKDAYS = [
    (0, gettext_lazy("Monday")),
    (1, gettext_lazy("Tuesday")),
    (2, gettext_lazy("Wednesday")),
    (3, gettext_lazy("Thursday")),
    (4, gettext_lazy("Friday")),
    (5, gettext_lazy("Saturday")),
    (6, gettext_lazy("Sunday")),
]


class WebhookSourceForm(forms.Form):
    key = forms.SlugField(label=gettext_lazy("Key (in the webhook's address)"), max_length=40)
    kind = forms.ChoiceField(label=gettext_lazy("Help desk"), choices=WebhookSourceKind.choices)
    secret = forms.CharField(
        label=gettext_lazy("Signing secret"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("Zendesk makes its own: paste it here. Empty: Touchpoint makes one."),
    )


class CalendarForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    time_zone = forms.CharField(
        label=gettext_lazy("Time zone (IANA, e.g. Europe/Berlin)"), max_length=64, initial="UTC"
    )
    working_days = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Working days"),
        choices=WEEKDAYS,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        initial=[0, 1, 2, 3, 4],
    )
    opens_at = forms.TimeField(label=gettext_lazy("Opens at"), initial="09:00")
    closes_at = forms.TimeField(label=gettext_lazy("Closes at (00:00 = midnight)"), initial="17:00")
    holidays = forms.CharField(
        label=gettext_lazy("Holidays (one date a line, e.g. 2026-12-25)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def clean_holidays(self) -> list[date]:
        days = []
        for line in self.cleaned_data["holidays"].replace(",", "\n").splitlines():
            line = line.strip()
            if not line:
                continue
            try:
                days.append(date.fromisoformat(line))
            except ValueError:
                raise forms.ValidationError(
                    _("“%(value)s” is not a date such as 2026-12-25.") % {"value": line[:40]}
                ) from None
        return days


TARGET_FIELDS = (
    ("first_reply", gettext_lazy("First reply (business hours)")),
    ("next_reply", gettext_lazy("Next reply (business hours)")),
    ("resolution", gettext_lazy("Resolution (business hours)")),
)


class PolicyForm(forms.Form):
    """A policy and, for each priority, its three targets in business hours and its escalation."""

    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    segment = forms.ModelChoiceField(
        label=gettext_lazy("Tier (segment)"),
        queryset=Segment.objects.all(),
        required=False,
        empty_label=gettext_lazy("Default: any other segment"),
    )
    calendar = forms.ModelChoiceField(label=gettext_lazy("Calendar"), queryset=BusinessCalendar.objects.all())

    def __init__(self, *args: Any, policy: SlaPolicy | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        engineers = User.objects.filter(is_active=True).order_by("full_name", "email")
        targets = {t.priority: t for t in policy.targets.all()} if policy is not None else {}
        for priority, label in Priority.choices:
            target = targets.get(priority)
            for name, field_label in TARGET_FIELDS:
                minutes = getattr(target, f"{name}_minutes", None) if target else None
                self.fields[f"{priority}_{name}"] = forms.DecimalField(
                    label=f"{label}: {field_label}",
                    required=False,
                    min_value=Decimal("0.1"),
                    max_value=Decimal(24 * 365),
                    decimal_places=2,
                    initial=None if minutes is None else Decimal(minutes) / 60,
                )
            self.fields[f"{priority}_escalate_to"] = forms.ModelChoiceField(
                label=f"{label}: " + str(_("escalate to (engineering)")),
                queryset=engineers,
                required=False,
                initial=target.escalate_to_id if target else None,
            )
            self.fields[f"{priority}_escalation_url"] = forms.URLField(
                assume_scheme="https",
                label=f"{label}: " + str(_("escalation webhook")),
                required=False,
                max_length=200,
                initial=target.escalation_url if target else "",
            )
        if policy is not None:
            self.fields["name"].initial = policy.name
            self.fields["segment"].initial = policy.segment_id
            self.fields["calendar"].initial = policy.calendar_id

    def targets(self) -> dict[str, dict[str, Any]]:
        data = self.cleaned_data
        out: dict[str, dict[str, Any]] = {}
        for priority, _label in Priority.choices:
            values: dict[str, Any] = {}
            for name, _field_label in TARGET_FIELDS:
                value = data.get(f"{priority}_{name}")
                values[f"{name}_minutes"] = None if value is None else max(1, int(round(value * 60)))
            values["escalate_to"] = data.get(f"{priority}_escalate_to")
            values["escalation_url"] = data.get(f"{priority}_escalation_url") or ""
            out[priority] = values
        return out
