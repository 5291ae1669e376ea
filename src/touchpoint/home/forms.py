"""Forms of the home page: whose day to show."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from touchpoint.home.selectors import switchable_people


class OwnerForm(forms.Form):
    """`?owner=<id>`: a leader opens the day of one person of their team."""

    owner: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("Whose day"),
        queryset=None,
        required=False,
        empty_label=_("My team"),
        error_messages={"invalid_choice": _("Choose someone of your team.")},
    )

    def __init__(self, *args: Any, viewer: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = switchable_people(viewer)  # type: ignore[attr-defined]
