from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class PersonForm(forms.Form):
    email = forms.EmailField(label=_("The person's email address"), max_length=254)


class EraseForm(PersonForm):
    confirm = forms.CharField(
        label=_("Type the email address again to confirm"),
        max_length=254,
        help_text=_("Erasure cannot be undone."),
    )

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        email, typed = cleaned.get("email"), (cleaned.get("confirm") or "").strip()
        if email and typed.lower() != email.strip().lower():
            self.add_error("confirm", _("This is not the same email address."))
        return cleaned
