"""The filters of the Audit page (the CSV export takes the same query string)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from touchpoint.bounds import FIRST_DAY, LAST_DAY
from touchpoint.users.audit_log import AuditFilters, object_types
from touchpoint.users.models import User

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
# The families of actions offered in the menu; any action is accepted typed in the query string.
ACTION_CHOICES = [
    ("", _("Any action")),
    ("auth.", _("Sign-ins and sign-outs")),
    ("auth.login_failed", _("Failed sign-ins")),
    ("admin.", _("Changes in the Django admin")),
    ("export", _("Exports")),
    ("import.", _("Imports")),
    ("apikey.", _("API keys")),
    ("user.", _("Users")),
]


class AuditFilterForm(forms.Form):
    actor = forms.ModelChoiceField(
        label=_("Done by"),
        queryset=User.objects.order_by("full_name", "email"),
        required=False,
        empty_label=_("Anyone"),
    )
    action = forms.CharField(
        label=_("Action"),
        required=False,
        max_length=64,
        widget=forms.TextInput(attrs={"list": "audit-actions"}),
    )
    object_type = forms.ChoiceField(label=_("Object type"), required=False)
    object = forms.CharField(label=_("Object id or text"), required=False, max_length=255)
    since = forms.DateField(label=_("From"), required=False, widget=DATE_WIDGET)
    until = forms.DateField(label=_("To"), required=False, widget=DATE_WIDGET)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        object_type = self.fields["object_type"]
        assert isinstance(object_type, forms.ChoiceField)
        object_type.choices = [("", _("Any type")), *((t, t) for t in object_types())]

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        for name in ("since", "until"):
            day = cleaned.get(name)
            if day is not None and not FIRST_DAY <= day <= LAST_DAY:
                self.add_error(
                    name,
                    _("Give a date between %(first)s and %(last)s.") % {"first": FIRST_DAY, "last": LAST_DAY},
                )
        if "\x00" in (cleaned.get("object") or "") + (cleaned.get("action") or ""):
            self.add_error("object", _("Null characters are not allowed."))
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error("until", _("The end comes before the start."))
        return cleaned

    def filters(self) -> AuditFilters:
        """The filters of a valid form (call is_valid() first); an invalid form filters nothing out."""
        data = self.cleaned_data if self.is_bound and not self.errors else {}
        actor = data.get("actor")
        return AuditFilters(
            actor=actor.pk if actor is not None else None,
            action=(data.get("action") or "").strip(),
            object_type=data.get("object_type") or "",
            object=(data.get("object") or "").strip(),
            since=data.get("since"),
            until=data.get("until"),
        )
