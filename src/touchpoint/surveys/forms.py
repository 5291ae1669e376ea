"""The surveys pages' forms. They parse what people type; the services check the rest."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from touchpoint.accounts.models import ContactRole, Segment
from touchpoint.surveys.models import OnDetractor, SurveyKind
from touchpoint.surveys.texts import LANGUAGES, MAX_PART, PARTS

LANGUAGE_NAMES = {"en": _("English"), "ja": _("Japanese"), "ru": _("Russian"), "th": _("Thai")}
PART_LABELS = {
    "question": _("Question"),
    "follow_up": _("Follow-up (the comment's prompt)"),
    "subject": _("Email subject"),
    "intro": _("Email introduction"),
}


class SurveyForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    key = forms.CharField(
        label=_("Key"),
        max_length=60,
        required=False,
        help_text=_("What a journey's survey step names; made from the name when empty."),
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=SurveyKind.choices)
    on_detractor = forms.ChoiceField(
        label=_("When someone answers as a detractor"), choices=OnDetractor.choices
    )
    detractor_target = forms.CharField(
        label=_("Playbook name or journey key"), max_length=120, required=False
    )

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:  # the key and the kind stay once answers may exist
            del self.fields["key"]
            del self.fields["kind"]
        for language in LANGUAGES:
            for part in PARTS:
                widget = (
                    forms.Textarea(attrs={"rows": 2}) if part in ("question", "intro") else forms.TextInput()
                )
                self.fields[f"{part}_{language}"] = forms.CharField(
                    label=f"{PART_LABELS[part]} ({LANGUAGE_NAMES[language]})",
                    required=False,
                    max_length=MAX_PART[part],
                    widget=widget,
                )

    def texts_data(self) -> dict[str, dict[str, str]]:
        data = self.cleaned_data
        return {
            language: {part: data.get(f"{part}_{language}", "") for part in PARTS} for language in LANGUAGES
        }

    @staticmethod
    def initial_for(survey: Any) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "name": survey.name,
            "on_detractor": survey.on_detractor,
            "detractor_target": survey.detractor_target,
        }
        for language, parts in (survey.texts or {}).items():
            for part, value in parts.items():
                initial[f"{part}_{language}"] = value
        return initial

    def language_fields(self) -> list[tuple[Any, list[Any]]]:
        """The text fields grouped by language, for the page."""
        return [(LANGUAGE_NAMES[lang], [self[f"{part}_{lang}"] for part in PARTS]) for lang in LANGUAGES]

    def main_fields(self) -> list[Any]:
        return [
            self[name]
            for name in ("name", "key", "kind", "on_detractor", "detractor_target")
            if name in self.fields
        ]


class SendForm(forms.Form):
    channel = forms.ChoiceField(label=_("Channel"), choices=[("email", _("Email")), ("in_app", _("In-app"))])
    segment = forms.ModelChoiceField(
        label=_("Segment"), queryset=Segment.objects.none(), required=False, empty_label=_("Every segment")
    )
    role = forms.ChoiceField(
        label=_("People"), choices=[("", _("Everyone at the account")), *ContactRole.choices], required=False
    )
    account = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1, max_value=2**63 - 1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["segment"].queryset = Segment.objects.order_by("tier", "name")  # type: ignore[attr-defined]


class SettingsForm(forms.Form):
    resurvey_days = forms.IntegerField(
        label=_("Days before a person is surveyed again"), min_value=0, max_value=3650
    )
    decline_days = forms.IntegerField(
        label=_("Days before asking again after a decline"), min_value=0, max_value=3650
    )
    monthly_account_cap = forms.IntegerField(
        label=_("Surveys per account per month (0: no cap)"), min_value=0, max_value=10_000
    )


class ResultsFilterForm(forms.Form):
    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean_start(self) -> Any:
        return _bounded(self.cleaned_data.get("start"))

    def clean_end(self) -> Any:
        return _bounded(self.cleaned_data.get("end"))


def _bounded(value: Any) -> Any:
    if value is not None and not 2000 <= value.year <= 2100:
        raise forms.ValidationError(_("Give a date between 2000 and 2100."))
    return value
