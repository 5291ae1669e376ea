from django import forms
from django.utils.translation import gettext_lazy as _


class SourceForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("Where the events come from, e.g. “Web app” or “Billing backend”."),
    )
