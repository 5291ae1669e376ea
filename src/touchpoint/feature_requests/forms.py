"""The feature-request pages' forms. They parse what people type; the services check the rest."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from touchpoint.accounts.models import Account, Contact, Segment
from touchpoint.feature_requests.models import FeatureRequest, Status
from touchpoint.feature_requests.selectors import OPEN, SORTS, Filters, live_requests


class RequestForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    product_area = forms.CharField(label=_("Product area"), max_length=100, required=False)
    description = forms.CharField(
        label=_("Description"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=Status.choices)
    note = forms.CharField(
        label=_("Note"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Why, for the people who asked (kept in the history)."),
    )


class MergeForm(forms.Form):
    survivor = forms.ModelChoiceField(
        label=_("Merge this request into"), queryset=FeatureRequest.objects.none()
    )
    note = forms.CharField(label=_("Note"), max_length=2000, required=False)

    def __init__(self, *args: Any, request: FeatureRequest, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ModelChoiceField, self.fields["survivor"])
        field.queryset = live_requests().exclude(pk=request.pk).order_by("title", "pk")


class AskForm(forms.Form):
    """The account panel's "add a request": pick a suggested request or write a new one."""

    title = forms.CharField(
        label=_("What do they ask for?"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    request = forms.ModelChoiceField(
        label=_("Existing request"),
        queryset=FeatureRequest.objects.none(),
        required=False,
        widget=forms.HiddenInput,
    )
    product_area = forms.CharField(label=_("Product area"), max_length=100, required=False)
    verbatim = forms.CharField(
        label=_("In their words"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )
    contact = forms.ModelChoiceField(
        label=_("Who asked"), queryset=Contact.objects.none(), required=False, empty_label="—"
    )

    def __init__(self, *args: Any, account: Account, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["request"]).queryset = live_requests()
        cast(forms.ModelChoiceField, self.fields["contact"]).queryset = Contact.objects.filter(
            account=account
        ).order_by("name", "pk")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("request") and not (data.get("title") or "").strip() and "title" not in self.errors:
            self.add_error("title", _("Say what they ask for, or pick a suggested request."))
        return data


FILTER_STATUS_CHOICES = [(OPEN, _("Open")), ("", _("All statuses")), *Status.choices]
SORT_CHOICES = [
    ("stake", _("Revenue at stake")),
    ("accounts", _("Accounts asking")),
    ("newest", _("Newest")),
]


class FilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=FILTER_STATUS_CHOICES, required=False, initial=OPEN)
    product_area = forms.ChoiceField(label=_("Product area"), required=False)
    segment = forms.ModelChoiceField(
        label=_("Segment"), queryset=Segment.objects.all(), required=False, empty_label=_("All segments")
    )
    sort = forms.ChoiceField(label=_("Rank by"), choices=SORT_CHOICES, required=False)
    q = forms.CharField(label=_("Search"), max_length=200, required=False)

    def __init__(self, *args: Any, areas: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["product_area"]).choices = [
            ("", _("All areas")),
            *((area, area) for area in areas),
        ]

    def filters(self) -> Filters:
        if not self.is_bound:
            return Filters()
        if not self.is_valid():
            data = {name: value for name, value in self.cleaned_data.items() if name not in self.errors}
        else:
            data = self.cleaned_data
        segment = data.get("segment")
        return Filters(
            status=data.get("status", OPEN) if "status" in self.data else OPEN,
            product_area=data.get("product_area") or "",
            segment_id=segment.pk if segment else None,
            sort=str(data.get("sort")) if data.get("sort") in SORTS else "stake",
            q=(data.get("q") or "").strip(),
        )
