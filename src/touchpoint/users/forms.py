"""Forms of the users app: a person's own settings."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from touchpoint.users.models import User


def language_choices() -> list[tuple[str, str]]:
    """The languages Touchpoint speaks, and "" for the site's default."""
    return [("", str(_("Site default"))), *((code, str(name)) for code, name in settings.LANGUAGES)]


class MySettingsForm(forms.ModelForm):
    """What a person changes about themselves: the daily digest and the language of their emails."""

    language = forms.ChoiceField(
        label=_("Language of emails"),
        choices=language_choices,
        required=False,
        help_text=_("The daily digest is written in it; the site default when empty."),
    )

    class Meta:
        model = User
        fields = ["receive_daily_digest", "language"]
