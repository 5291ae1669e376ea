"""The scorecard editor: for every registered measure, whether it counts, its weight and thresholds."""

from __future__ import annotations

from typing import cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from touchpoint.accounts.models import Segment
from touchpoint.health.backtest import DEFAULT_HORIZON
from touchpoint.health.measures import registered_measures
from touchpoint.health.scoring import DEFAULT_MISSING_POINTS, MAX_THRESHOLD, MAX_WEIGHT, Definition


class ScorecardForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    segment = forms.ModelChoiceField(
        label=_("Segment"),
        queryset=Segment.objects.none(),
        required=False,
        empty_label=_("Default (every account without a segment scorecard)"),
    )
    grade_green = forms.FloatField(label=_("Green from score"), min_value=0, max_value=100, initial=70)
    grade_red = forms.FloatField(label=_("Red below score"), min_value=0, max_value=100, initial=40)
    note = forms.CharField(label=_("What changed and why"), max_length=300, required=False)

    def __init__(self, *args, definition: Definition | None = None, new: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["segment"]).queryset = Segment.objects.filter(
            scorecard__isnull=True
        ).order_by("tier", "name")
        if not new:
            del self.fields["segment"]
            self.fields["name"].disabled = True
        rules = {rule.measure: rule for rule in definition.rules} if definition else {}
        if definition is not None:
            self.fields["grade_green"].initial = definition.green_at
            self.fields["grade_red"].initial = definition.red_below
        self.measure_rows = []
        for measure in registered_measures():
            rule = rules.get(measure.key)
            label = measure.label
            self.fields[f"{measure.key}__on"] = forms.BooleanField(
                label=label, required=False, initial=rule is not None or definition is None
            )
            self.fields[f"{measure.key}__weight"] = forms.FloatField(
                label=_("Weight"),
                min_value=0,
                max_value=MAX_WEIGHT,
                initial=rule.weight if rule else measure.weight,
            )
            self.fields[f"{measure.key}__green"] = forms.FloatField(
                label=_("Green at"),
                min_value=-MAX_THRESHOLD,
                max_value=MAX_THRESHOLD,
                initial=rule.green if rule else measure.green,
            )
            self.fields[f"{measure.key}__red"] = forms.FloatField(
                label=_("Red at"),
                min_value=-MAX_THRESHOLD,
                max_value=MAX_THRESHOLD,
                initial=rule.red if rule else measure.red,
            )
            self.fields[f"{measure.key}__missing"] = forms.FloatField(
                label=_("Points without data"),
                help_text=_("What the measure gives an account that has no value for it yet (0–100)."),
                min_value=0,
                max_value=100,
                required=False,  # blank: the default
                initial=rule.missing if rule else DEFAULT_MISSING_POINTS,
            )
            self.measure_rows.append(
                (
                    measure,
                    [self[f"{measure.key}__{part}"] for part in ("on", "weight", "green", "red", "missing")],
                )
            )

    def clean(self):
        data = super().clean()
        assert data is not None  # forms.Form.clean() returns cleaned_data
        keys = [m.key for m in registered_measures() if data.get(f"{m.key}__on")]
        if self.errors:
            return data
        raw = {
            "measures": [
                {
                    "measure": key,
                    "weight": data.get(f"{key}__weight"),
                    "green": data.get(f"{key}__green"),
                    "red": data.get(f"{key}__red"),
                    "missing": data.get(f"{key}__missing"),
                }
                for key in keys
            ],
            "grades": {"green": data.get("grade_green"), "red": data.get("grade_red")},
        }
        try:
            data["definition"] = Definition.from_dict(raw)
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                parts = field.split(".")
                if parts[0] == "measures" and len(parts) == 3:
                    self.add_error(
                        f"{keys[int(parts[1])]}__{parts[2] if parts[2] != 'measure' else 'on'}", messages
                    )
                elif parts[0] == "grades":
                    self.add_error("grade_green", messages)
                else:
                    self.add_error(None, messages)
        return data


class ApplyYamlForm(forms.Form):
    yaml = forms.CharField(
        label=_("Scorecards as YAML"), widget=forms.Textarea(attrs={"rows": 12}), max_length=100_000
    )


class BacktestForm(forms.Form):
    scorecard = forms.IntegerField(required=False, widget=forms.HiddenInput)
    start = forms.DateField(label=_("From"), required=False)
    end = forms.DateField(label=_("To"), required=False)
    every = forms.IntegerField(label=_("Every (days)"), min_value=1, max_value=90, initial=7, required=False)
    horizon = forms.IntegerField(
        label=_("Churn within (days)"), min_value=1, max_value=730, initial=DEFAULT_HORIZON, required=False
    )
