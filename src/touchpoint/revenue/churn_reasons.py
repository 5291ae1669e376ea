"""The churn reasons Touchpoint starts with, in the reader's language.

Migration 0002 seeds ChurnReason rows with these English names; admins may rename, retire and add
reasons. A row that still carries a built-in name is shown translated; a renamed or added one shows
the name its admin typed (people's words are not translated).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

BUILT_IN = {
    "Budget cut": _("Budget cut"),
    "Switched to a competitor": _("Switched to a competitor"),
    "Low adoption": _("Low adoption"),
    "Missing features": _("Missing features"),
    "Poor support experience": _("Poor support experience"),
    "Company closed or acquired": _("Company closed or acquired"),
    "Champion left": _("Champion left"),
    "Other": _("Other"),
}


def reason_label(name: str | None) -> str:
    """A stored reason name as the reader should see it ("" stays "")."""
    if not name:
        return ""
    return str(BUILT_IN.get(name, name))
