from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from touchpoint.playbooks.models import Playbook, PlaybookRule


class StartPlaybookForm(forms.Form):
    playbook = forms.ModelChoiceField(
        label=_("Playbook"), queryset=Playbook.objects.none(), empty_label=_("Choose a playbook")
    )
    anchor_date = forms.DateField(
        label=_("Anchor date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Empty: today (the renewal playbook: the next renewal date)."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["playbook"].queryset = Playbook.objects.filter(is_active=True).order_by("name")  # type: ignore[attr-defined]


class StopPlaybookForm(forms.Form):
    reason = forms.CharField(label=_("Why stop it?"), max_length=500)


class RuleForm(forms.ModelForm):
    class Meta:
        model = PlaybookRule
        fields = ["playbook", "is_active"]
