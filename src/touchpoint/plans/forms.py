"""The plan page's forms. They parse what people type; the services check the rest."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from touchpoint.accounts.models import Account, Contact
from touchpoint.plans.models import PlanMilestoneStatus, StakeholderRole
from touchpoint.plans.services import (
    KPI_LIMIT,
    SHARE_DAYS_DEFAULT,
    SHARE_DAYS_MAX,
    KpiValues,
    MilestoneValues,
)
from touchpoint.success.models import MilestoneDefinition

# type="date" inputs speak ISO-8601 whatever the reader's language.
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ContactField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} ({obj.title})" if obj.title else obj.name


def _contacts(form: forms.Form, account: Account, *names: str) -> None:
    for name in names:
        cast(forms.ModelChoiceField, form.fields[name]).queryset = Contact.objects.filter(
            account=account
        ).order_by("name", "id")


def _number(label: Any) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=False,
        max_digits=18,
        decimal_places=4,
        max_value=KPI_LIMIT,
        min_value=-KPI_LIMIT,
    )


class PlanDetailsForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    summary = forms.CharField(
        label=_("Summary"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )


class ObjectiveForm(forms.Form):
    text = forms.CharField(
        label=_("Objective, in the customer's words"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class KpiForm(forms.Form):
    name = forms.CharField(label=_("KPI"), max_length=100)
    unit = forms.CharField(label=_("Unit"), required=False, max_length=30)
    baseline = _number(_("Baseline"))
    target = _number(_("Target"))
    current = _number(_("Current"))
    due_on = forms.DateField(label=_("Due"), required=False, widget=DATE_WIDGET)
    owner = ContactField(
        label=_("KPI owner"), required=False, queryset=Contact.objects.none(), empty_label="—"
    )

    def __init__(self, *args: Any, account: Account, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _contacts(self, account, "owner")

    def values(self) -> KpiValues:
        return KpiValues(**{name: self.cleaned_data[name] for name in self.fields})


class StakeholderForm(forms.Form):
    contact = ContactField(label=_("Contact"), queryset=Contact.objects.none())
    role = forms.ChoiceField(label=_("Role"), choices=StakeholderRole.choices)

    def __init__(self, *args: Any, account: Account, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _contacts(self, account, "contact")


class MilestoneForm(forms.Form):
    title = forms.CharField(label=_("Milestone"), max_length=100)
    due_on = forms.DateField(label=_("Due"), required=False, widget=DATE_WIDGET)
    status = forms.ChoiceField(
        label=_("Status"), choices=PlanMilestoneStatus.choices, initial=PlanMilestoneStatus.PLANNED
    )
    progress = forms.IntegerField(label=_("Progress (%)"), min_value=0, max_value=100, initial=0)
    milestone = forms.ModelChoiceField(
        label=_("Tracks the framework milestone"),
        required=False,
        queryset=MilestoneDefinition.objects.none(),
        empty_label="—",
    )

    def __init__(self, *args: Any, milestones: list[MilestoneDefinition], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["milestone"]).queryset = MilestoneDefinition.objects.filter(
            pk__in=[m.pk for m in milestones]
        )

    def values(self) -> MilestoneValues:
        return MilestoneValues(**{name: self.cleaned_data[name] for name in self.fields})


class AgreeForm(forms.Form):
    agreed_by = ContactField(label=_("Agreed by"), queryset=Contact.objects.none())
    agreed_on = forms.DateField(label=_("Agreed on"), widget=DATE_WIDGET)

    def __init__(self, *args: Any, account: Account, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _contacts(self, account, "agreed_by")


class ShareForm(forms.Form):
    language = forms.ChoiceField(label=_("Language of the shared page"), choices=settings.LANGUAGES)
    days = forms.IntegerField(
        label=_("Link works for (days)"), min_value=1, max_value=SHARE_DAYS_MAX, initial=SHARE_DAYS_DEFAULT
    )
