"""What success adds to the shared screens (registered from SuccessConfig.ready()): the lifecycle
phase in the account header (with its own edit form), and the phase column, sort, filter and CSV
columns of the portfolio (which the accounts list API shares)."""

from __future__ import annotations

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from touchpoint.success.models import LifecyclePhase
from touchpoint.success.selectors import phases_for_filter
from touchpoint.success.services import placement_of

PLACEMENT = ("placement__phase__framework", "placement__framework")


def with_placement(qs: QuerySet) -> QuerySet:
    return qs.select_related(*PLACEMENT)


def phase_field() -> forms.Field:
    return PhaseChoiceField(
        label=_("Lifecycle phase"),
        required=False,
        queryset=phases_for_filter(),
        empty_label=_("All phases"),
    )


class PhaseChoiceField(forms.ModelChoiceField):
    """Phases named with their framework: "Standard › Adoption"."""

    def label_from_instance(self, obj: LifecyclePhase) -> str:
        return f"{obj.framework.name} › {obj.name}"


def filter_by_phase(qs: QuerySet, phase: LifecyclePhase) -> QuerySet:
    return qs.filter(placement__phase=phase)


def _phase(account) -> LifecyclePhase | None:
    placement = placement_of(account)
    return placement.phase if placement is not None else None


def register() -> None:
    from touchpoint.accounts.panels import account_header_facts
    from touchpoint.accounts.portfolio import portfolio_columns, portfolio_export_columns, portfolio_filters

    account_header_facts.add(
        key="phase",
        label=_("Lifecycle phase"),
        template="success/_phase_fact.html",
        order=50,
        select_related=PLACEMENT,
    )
    portfolio_columns.add(
        key="phase",
        label=_("Lifecycle phase"),
        order=60,
        template="success/_portfolio_phase.html",
        queryset=with_placement,
        sort=("placement__phase__framework__name", "placement__phase__position", "name_lower", "id"),
        sort_desc=("-placement__phase__framework__name", "-placement__phase__position", "name_lower", "id"),
    )
    portfolio_filters.add(key="phase", field=phase_field, apply=filter_by_phase, order=50, api_type=int)
    portfolio_export_columns.add(
        header="success_framework",
        order=90,
        queryset=with_placement,
        value=lambda account: phase.framework.name if (phase := _phase(account)) else "",
    )
    portfolio_export_columns.add(
        header="lifecycle_phase",
        order=100,
        queryset=with_placement,
        value=lambda account: phase.name if (phase := _phase(account)) else "",
    )
