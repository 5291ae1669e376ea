"""Forms of the People pages (plain forms: the services check and save)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from touchpoint.users.forms import language_choices
from touchpoint.users.roles import Role


def role_choices() -> list[tuple[str, str]]:
    return [(role.value, str(role.label)) for role in Role]


class InviteForm(forms.Form):
    full_name = forms.CharField(label=pgettext_lazy("of a person", "Name"), max_length=200, required=False)
    email = forms.EmailField(label=_("Email address"), max_length=254)
    role = forms.ChoiceField(label=_("Role"), choices=role_choices)
    language = forms.ChoiceField(
        label=_("Language of the invitation"),
        choices=language_choices,
        required=False,
        help_text=_("The email is written in it, and so are the emails Touchpoint sends this person later."),
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=role_choices)


class ChoosePasswordForm(forms.Form):
    password = forms.CharField(
        label=_("New password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_again = forms.CharField(
        label=_("New password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("password") and data.get("password_again") and data["password"] != data["password_again"]:
            self.add_error("password_again", _("The two passwords differ."))
        return data
