"""The success-gap funnel page: filters, chart, table, the gap, and the stalled accounts of a step."""

from __future__ import annotations

import hashlib
from typing import Any, cast

from django import forms
from django.core.cache import cache
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from touchpoint.accounts.models import Segment
from touchpoint.request_types import AuthenticatedHttpRequest
from touchpoint.success.funnel import (
    CACHE_SECONDS,
    Funnel,
    FunnelFilter,
    funnel,
    parse_cohort,
    stalled_accounts,
)
from touchpoint.success.models import MilestoneDefinition, SuccessFramework
from touchpoint.users.permissions import permission_required
from touchpoint.users.selectors import account_owners
from touchpoint.web.display import percent

STALLED_PAGE_SIZE = 50
PRODUCT_COLOUR, OUTCOME_COLOUR, START_COLOUR = "#2857c5", "#157f3b", "#98a2b3"


class CohortField(forms.Field):
    """A start month typed as YYYY-MM (what <input type="month"> sends); cleans to its first day."""

    def to_python(self, value: Any):
        try:
            return parse_cohort("" if value in self.empty_values else str(value))
        except ValueError as error:
            raise forms.ValidationError(str(error)) from error


class FunnelFilterForm(forms.Form):
    framework = forms.ModelChoiceField(
        label=gettext_lazy("Success framework"),
        required=False,
        queryset=SuccessFramework.objects.none(),
        empty_label=None,
    )
    segment = forms.ModelChoiceField(
        label=gettext_lazy("Segment"),
        required=False,
        queryset=Segment.objects.none(),
        empty_label=gettext_lazy("All segments"),
    )
    owner = forms.ModelChoiceField(
        label=gettext_lazy("Owner"),
        required=False,
        queryset=account_owners().none(),
        empty_label=gettext_lazy("All owners"),
    )
    cohort = CohortField(label=gettext_lazy("Started in (month)"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["framework"]).queryset = SuccessFramework.objects.order_by(
            "-is_default", "name"
        )
        cast(forms.ModelChoiceField, self.fields["segment"]).queryset = Segment.objects.order_by(
            "tier", "name"
        )
        cast(forms.ModelChoiceField, self.fields["owner"]).queryset = account_owners()

    def chosen(self, reader: Any) -> tuple[SuccessFramework | None, FunnelFilter]:
        """The framework (else the default, else the first) and filters; fields in error are left out."""
        self.is_valid()
        data = {k: v for k, v in getattr(self, "cleaned_data", {}).items() if k not in self.errors}
        framework = data.get("framework") or SuccessFramework.objects.order_by("-is_default", "name").first()
        segment, owner = data.get("segment"), data.get("owner")
        return framework, FunnelFilter(
            segment_id=segment.pk if segment else None,
            owner_id=owner.pk if owner else None,
            cohort=data.get("cohort"),
            reader=reader,
        )


def _step_label(index: int, name: str) -> str:
    return f"{index}. {name}"


def funnel_svg(result: Funnel) -> str:
    """Horizontal bars: the accounts that started, then each step's accounts, coloured by kind.

    Drawn by vl-convert (tens of milliseconds), so kept in the cache beside the numbers: the same
    numbers in the same language give the same picture.
    """
    product, outcome, started = _("Product milestone"), _("Outcome milestone"), _("Started")
    values: list[dict[str, Any]] = [
        {
            "label": started,
            "n": result.started,
            "kind": started,
            "tip": _("%(count)s accounts started") % {"count": f"{result.started:,}"},
        }
    ]
    for step in result.steps:
        label = _step_label(step.index + 1, step.milestone.name)
        values.append(
            {
                "label": label,
                "n": step.reached,
                "kind": outcome if step.is_outcome else product,
                "tip": _("%(step)s: %(count)s accounts (%(share)s of those that started)")
                % {"step": label, "count": f"{step.reached:,}", "share": percent(step.conversion_from_start)},
            }
        )
    key = "success-funnel-svg:" + hashlib.sha256(repr((get_language(), values)).encode()).hexdigest()
    drawn = cache.get(key)
    if drawn is None:
        drawn = _draw(values, order=[v["label"] for v in values], kinds=(started, product, outcome))
        cache.set(key, drawn, CACHE_SECONDS)
    return drawn


def _draw(values: list[dict[str, Any]], *, order: list[str], kinds: tuple[str, str, str]) -> str:
    import altair as alt

    from touchpoint.web.charts import svg

    chart = (
        alt.Chart(alt.Data(values=values))
        .mark_bar()
        .encode(
            y=alt.Y("label:N", title=None, sort=order, axis=alt.Axis(labelLimit=240)),
            x=alt.X("n:Q", title=_("Accounts"), axis=alt.Axis(format=",d", tickMinStep=1)),
            color=alt.Color(
                "kind:N",
                title=None,
                scale=alt.Scale(domain=list(kinds), range=[START_COLOUR, PRODUCT_COLOUR, OUTCOME_COLOUR]),
                legend=alt.Legend(orient="bottom"),
            ),
            description="tip:N",
        )
        .properties(height=max(60, 28 * len(values)))
    )
    return svg(chart, width=640)


@permission_required("success.view_successframework")
@require_GET
def funnel_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The funnel of a framework, with the gap between product and outcome milestones called out."""
    form = FunnelFilterForm(request.GET or None)
    framework, filters = form.chosen(request.user)
    context: dict[str, Any] = {"form": form, "framework": framework, "query": request.GET.urlencode()}
    if framework is not None:
        result = funnel(framework=framework, filters=filters)
        context.update(funnel=result, chart_svg=funnel_svg(result) if result.steps else "")
    return render(request, "success/funnel.html", context)


@permission_required("success.view_successframework")
@require_GET
def funnel_stalled(request: AuthenticatedHttpRequest, milestone_id: int) -> HttpResponse:
    """The accounts stalled before a step (owner, health grade, days waiting), longest first; htmx gets
    the list alone."""
    milestone = get_object_or_404(MilestoneDefinition.objects.select_related("framework"), pk=milestone_id)
    form = FunnelFilterForm(request.GET or None)
    _framework, filters = form.chosen(request.user)
    try:
        page = max(1, min(int(request.GET.get("page", "1")), 10_000))
    except ValueError:
        page = 1
    found = stalled_accounts(
        framework=milestone.framework,
        milestone=milestone,
        filters=filters,
        limit=STALLED_PAGE_SIZE + 1,
        offset=(page - 1) * STALLED_PAGE_SIZE,
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "milestone": milestone,
        "framework": milestone.framework,
        "stalled": found[:STALLED_PAGE_SIZE],
        "page": page,
        "has_next": len(found) > STALLED_PAGE_SIZE,
        "query": query.urlencode(),
        "form": form,
    }
    template = "success/_funnel_stalled.html" if request.htmx else "success/funnel_stalled.html"
    return render(request, template, context)
