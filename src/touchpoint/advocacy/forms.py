"""The advocacy forms. They parse what people type; the services check the rules (the quarter limit,
the next status an ask may take) and the views show the services' errors beside the fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from touchpoint.accounts.models import Contact
from touchpoint.advocacy.models import ActivityKind, AdvocacySettings, AskStatus, RewardKind

# type="date" inputs speak ISO-8601 whatever the reader's language.
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
NOTE_WIDGET = forms.Textarea(attrs={"rows": 3})


class ContactField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return (
            f"{obj.name} · {obj.account.name}"
            if obj.title == ""
            else f"{obj.name} ({obj.title}) · {obj.account.name}"
        )


class AskForm(forms.Form):
    contact = ContactField(label=_("Contact"), queryset=Contact.objects.none(), empty_label=None)
    kind = forms.ChoiceField(
        label=_("What for"), choices=ActivityKind.choices, initial=ActivityKind.REFERENCE_CALL
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=5000, widget=NOTE_WIDGET)

    def __init__(self, *args: Any, contacts: QuerySet[Contact], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["contact"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = contacts.select_related("account")


class StatusForm(forms.Form):
    status = forms.ChoiceField(
        label=_("New status"),
        choices=[
            (AskStatus.ACCEPTED, _("Accepted")),
            (AskStatus.DONE, _("Done")),
            (AskStatus.DECLINED, _("Declined")),
        ],
    )
    on = forms.DateField(label=_("On"), widget=DATE_WIDGET, required=False)
    outcome_note = forms.CharField(label=_("Outcome"), required=False, max_length=5000, widget=NOTE_WIDGET)
    link = forms.URLField(label=_("Link"), required=False, max_length=500, assume_scheme="https")


class AdvocateForm(forms.Form):
    since = forms.DateField(label=_("Advocate since"), widget=DATE_WIDGET, initial=timezone.localdate)
    notes = forms.CharField(label=_("Notes"), required=False, max_length=5000, widget=NOTE_WIDGET)


class ActivityForm(forms.Form):
    kind = forms.ChoiceField(label=_("What they did"), choices=ActivityKind.choices)
    occurred_on = forms.DateField(label=_("Date"), widget=DATE_WIDGET, initial=timezone.localdate)
    link = forms.URLField(label=_("Link"), required=False, max_length=500, assume_scheme="https")
    note = forms.CharField(label=_("Note"), required=False, max_length=5000, widget=NOTE_WIDGET)


class RewardForm(forms.Form):
    kind = forms.ChoiceField(label=_("Reward"), choices=RewardKind.choices)
    value = forms.DecimalField(label=_("Value"), min_value=0, max_digits=12, decimal_places=2, initial=0)
    currency = forms.CharField(label=_("Currency"), max_length=3, min_length=3)
    given_on = forms.DateField(label=_("Given on"), widget=DATE_WIDGET, initial=timezone.localdate)
    note = forms.CharField(label=_("Note"), required=False, max_length=5000, widget=NOTE_WIDGET)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["currency"].initial = settings.TOUCHPOINT_CURRENCY


class SettingsForm(forms.ModelForm):
    class Meta:
        model = AdvocacySettings
        fields = ("max_asks_per_quarter", "pool_quiet_days")
