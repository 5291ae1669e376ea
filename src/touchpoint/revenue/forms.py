"""Forms of the revenue pages."""

from __future__ import annotations

import re
from datetime import date
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from touchpoint.accounts.models import Segment
from touchpoint.revenue import metrics, selectors
from touchpoint.users.permissions import is_csm
from touchpoint.users.selectors import account_owners

MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


class MonthField(forms.Field):
    """A calendar month typed as YYYY-MM (what <input type="month"> sends); cleans to its first day."""

    def to_python(self, value) -> date | None:
        value = str(value).strip() if value not in self.empty_values else ""  # as forms.CharField does
        if not value:
            return None
        match = MONTH.match(value)
        if not match:
            raise forms.ValidationError(_("Give a month as YYYY-MM, e.g. 2026-03."))
        return date(int(match[1]), int(match[2]), 1)


class RevenueFilterForm(forms.Form):
    segment = forms.ModelChoiceField(
        label=_("Segment"), required=False, queryset=Segment.objects.none(), empty_label=_("All segments")
    )
    owner = forms.ModelChoiceField(
        label=_("Owner"), required=False, queryset=account_owners().none(), empty_label=_("All owners")
    )
    period = forms.ChoiceField(
        label=_("Per"), required=False, choices=[("month", _("Month")), ("quarter", _("Quarter"))]
    )
    start = MonthField(label=_("From month"), required=False)
    end = MonthField(label=_("To month"), required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["segment"]).queryset = Segment.objects.order_by(
            "tier", "name"
        )
        cast(forms.ModelChoiceField, self.fields["owner"]).queryset = account_owners()

    def clean(self):
        data = super().clean()
        assert data is not None  # forms.Form.clean() returns cleaned_data
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error("end", _("The start must not be after the end."))
        if (
            data.get("start")
            and data.get("end")
            and (data["end"].year - data["start"].year) * 12 + data["end"].month - data["start"].month >= 120
        ):
            self.add_error("start", _("Ask for at most ten years at a time."))
        return data

    def report_args(self, *, reader: Any = None) -> tuple[selectors.RevenueFilter, date, date, metrics.Unit]:
        """The filter, range and unit asked for; fields in error fall back to their defaults."""
        data = (
            self.cleaned_data
            if self.is_valid()
            else {
                name: value
                for name, value in getattr(self, "cleaned_data", {}).items()
                if name not in self.errors
            }
        )
        first, last = selectors.default_range()
        if data.get("start"):
            first = data["start"]
        if data.get("end"):
            last = metrics.periods(data["end"], data["end"])[0].end
        if first > last:
            first, last = selectors.default_range()
        segment, owner = data.get("segment"), data.get("owner")
        filters = selectors.RevenueFilter(
            segment_id=segment.pk if segment else None, owner_id=owner.pk if owner else None, reader=reader
        )
        return filters, first, last, data.get("period") or "month"


class SubscriptionForm(forms.Form):
    """A new subscription, from the account page."""

    product = forms.CharField(label=_("Product"), max_length=200)
    plan = forms.CharField(label=_("Plan"), max_length=200, required=False)
    mrr = forms.DecimalField(label=_("MRR"), min_value=0, max_digits=14, decimal_places=2)
    currency = forms.CharField(label=_("Currency"), max_length=3, required=False)
    quantity = forms.IntegerField(label=_("Seats"), min_value=0, initial=1)
    started_on = forms.DateField(label=_("Start date"), widget=forms.DateInput(attrs={"type": "date"}))
    term_months = forms.IntegerField(label=_("Term (months)"), min_value=1, max_value=120, initial=12)
    renewal_date = forms.DateField(
        label=_("Renewal date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    auto_renew = forms.BooleanField(label=_("Renews automatically"), required=False, initial=True)

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("prefix", "new")
        super().__init__(*args, **kwargs)


def _reason_field(required: bool = False) -> forms.ModelChoiceField:
    from touchpoint.revenue.models import ChurnReason

    return forms.ModelChoiceField(
        label=_("Reason"),
        required=required,
        empty_label=_("— none given —"),
        queryset=ChurnReason.objects.filter(is_active=True),
    )


class ChangeSubscriptionForm(forms.Form):
    mrr = forms.DecimalField(label=_("MRR"), min_value=0, max_digits=14, decimal_places=2)
    quantity = forms.IntegerField(label=_("Seats"), min_value=0)
    plan = forms.CharField(label=_("Plan"), max_length=200, required=False)
    renewal_date = forms.DateField(
        label=_("Renewal date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    occurred_on = forms.DateField(label=_("Effective"), widget=forms.DateInput(attrs={"type": "date"}))
    churn_reason = forms.Field(required=False)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.TextInput)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["churn_reason"] = _reason_field()
        self.fields["churn_reason"].help_text = _("If the MRR goes down.")


class VoidMovementForm(forms.Form):
    reason = forms.CharField(
        label=_("Why was it a mistake?"), max_length=2000, widget=forms.TextInput(attrs={"maxlength": 2000})
    )


class CancelSubscriptionForm(forms.Form):
    canceled_on = forms.DateField(label=_("Canceled on"), widget=forms.DateInput(attrs={"type": "date"}))
    churn_reason = forms.Field(required=False)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.TextInput)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["churn_reason"] = _reason_field(required=True)


class ReactivateSubscriptionForm(forms.Form):
    reactivated_on = forms.DateField(label=_("Back on"), widget=forms.DateInput(attrs={"type": "date"}))
    mrr = forms.DecimalField(label=_("MRR"), min_value=0, max_digits=14, decimal_places=2)


class RenewalsForm(forms.Form):
    within = forms.TypedChoiceField(
        label=_("Due within"),
        coerce=int,
        required=False,
        initial=120,
        choices=[(30, _("30 days")), (60, _("60 days")), (90, _("90 days")), (120, _("120 days"))],
    )
    owner = forms.ChoiceField(label=_("Owner"), required=False)
    segment = forms.ModelChoiceField(
        label=_("Segment"), required=False, queryset=Segment.objects.none(), empty_label=_("All segments")
    )
    month = MonthField(label=_("Calendar month"), required=False)

    def __init__(self, *args, user=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        owners = [(str(u.pk), str(u)) for u in account_owners()]
        cast(forms.ChoiceField, self.fields["owner"]).choices = [("", _("All owners")), *owners]
        cast(forms.ModelChoiceField, self.fields["segment"]).queryset = Segment.objects.order_by(
            "tier", "name"
        )
        self.user = user
        # A CSM sees their own renewals first; they can choose "All owners".
        if (
            user is not None
            and "owner" not in self.data
            and is_csm(user)
            and any(value == str(user.pk) for value, _label in owners)
        ):
            self.initial["owner"] = str(user.pk)

    def values(self) -> tuple[selectors.RevenueFilter, int, date | None]:
        data = (
            self.cleaned_data
            if self.is_valid()
            else {
                name: value
                for name, value in getattr(self, "cleaned_data", {}).items()
                if name not in self.errors
            }
        )
        owner = data.get("owner") if "owner" in self.data else self.initial.get("owner")
        segment = data.get("segment")
        filters = selectors.RevenueFilter(
            segment_id=segment.pk if segment else None,
            owner_id=int(owner) if owner else None,
            reader=self.user,
        )
        return filters, data.get("within") or 120, data.get("month")


class ChurnReasonForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.TextInput)
    order = forms.IntegerField(label=_("Order"), min_value=0, max_value=32767, initial=0)
    is_active = forms.BooleanField(label=_("Offered"), required=False, initial=True)
