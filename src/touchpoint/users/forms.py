"""Forms of the users app: a person's own settings."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from touchpoint.users.models import User


def language_choices() -> list[tuple[str, str]]:
    """The languages Touchpoint speaks, and "" for the site's default."""
    return [("", str(_("Site default"))), *((code, str(name)) for code, name in settings.LANGUAGES)]


class MySettingsForm(forms.Form):
    """What a person changes about themselves: the daily digest and the language of their emails.

    A plain form (not a ModelForm), so cleaning it never touches the user; the service compares and saves.
    """

    receive_daily_digest = forms.BooleanField(
        label=User._meta.get_field("receive_daily_digest").verbose_name,
        help_text=User._meta.get_field("receive_daily_digest").help_text,
        required=False,
    )
    language = forms.ChoiceField(
        label=_("Language of emails"),
        choices=language_choices,
        required=False,
        help_text=_("The daily digest is written in it; the site default when empty."),
    )
