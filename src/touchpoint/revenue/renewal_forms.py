"""Forms of the renewal process: filters of the renewals page, an opportunity's changes, its outcome."""

from __future__ import annotations

from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _

from touchpoint.revenue.models import (
    OPEN_STAGES,
    OUTCOME_STAGES,
    ChurnReason,
    ForecastCategory,
    RenewalStage,
)
from touchpoint.users.selectors import account_owners


class OpportunityFilterForm(forms.Form):
    """Stage and forecast filters, rendered inside the renewals page's filter form."""

    stage = forms.ChoiceField(
        label=_("Stage"), required=False, choices=[("", _("All stages")), *RenewalStage.choices]
    )
    forecast = forms.ChoiceField(
        label=_("Forecast category"),
        required=False,
        choices=[("", _("All categories")), *ForecastCategory.choices],
    )

    def values(self) -> tuple[str, str]:
        data = self.cleaned_data if self.is_valid() else {}
        return data.get("stage", ""), data.get("forecast", "")


class OpportunityForm(forms.Form):
    stage = forms.ChoiceField(
        label=_("Stage"),
        choices=[(value, label) for value, label in RenewalStage.choices if value in OPEN_STAGES],
    )
    forecast_category = forms.ChoiceField(
        label=_("Forecast category"),
        choices=[(v, label) for v, label in ForecastCategory.choices if v != ForecastCategory.CLOSED],
    )
    expected_arr = forms.DecimalField(
        label=_("Expected ARR"),
        min_value=0,
        max_digits=14,  # 12 before the point: MAX_EXPECTED_ARR
        decimal_places=2,
        help_text=_("In the subscription's currency."),
    )
    owner = forms.ModelChoiceField(
        label=_("Owner"), required=False, queryset=account_owners().none(), empty_label=_("— nobody —")
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["owner"]).queryset = account_owners()


class OutcomeForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=[(v, label) for v, label in RenewalStage.choices if v in OUTCOME_STAGES]
    )
    churn_reason = forms.ModelChoiceField(
        label=_("Churn reason"),
        required=False,
        queryset=ChurnReason.objects.none(),
        empty_label=_("— none given —"),
        help_text=_("Required when the customer churned; optional for a downgrade."),
    )
    new_mrr = forms.DecimalField(
        label=_("New MRR"),
        required=False,
        min_value=0,
        max_digits=14,
        decimal_places=2,
        help_text=_(
            "For a downgrade (required) or a renewal at a higher price; in the subscription's currency."
        ),
    )
    new_renewal_date = forms.DateField(
        label=_("Next renewal date"),
        required=False,
        help_text=_("Empty: one term after this renewal."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    effective_on = forms.DateField(
        label=_("Effective"),
        required=False,
        help_text=_("Empty: the renewal date, or today if earlier."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    reason = forms.CharField(
        label=_("Reason"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # {field: (warning code, message)}: unusual values to confirm (revenue/_confirm_warning.html).
        self.warnings: dict[str, tuple[str, str]] = {}
        cast(forms.ModelChoiceField, self.fields["churn_reason"]).queryset = ChurnReason.objects.filter(
            is_active=True
        )
