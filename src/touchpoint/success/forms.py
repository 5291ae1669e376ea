from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from touchpoint.accounts.models import Account
from touchpoint.success.plugins import PhaseChoiceField
from touchpoint.success.selectors import phases_for_filter
from touchpoint.success.services import placement_of


class PhaseForm(forms.Form):
    """The account header's "change phase" form (a phase brings its framework along)."""

    phase = PhaseChoiceField(
        label=_("Lifecycle phase"), required=False, queryset=phases_for_filter(), empty_label="—"
    )

    def __init__(self, *args, account: Account, **kwargs) -> None:
        placement = placement_of(account)
        kwargs.setdefault("initial", {"phase": placement.phase_id if placement is not None else None})
        super().__init__(*args, **kwargs)
