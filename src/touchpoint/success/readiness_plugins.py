"""What success adds to readiness maps (registered from SuccessConfig.ready()): the "time to first
value" KPI of the "use" stage, and milestones as what measures a touchpoint.

Time to first value is the Time to value page's figure (success.milestone_selectors): days from an
account's start (`account_start_dates`) to the first time it reached a first-value milestone, the
median (`stats_of`) over the accounts that first reached one in the latest `context.days`, against
those of the `days` before. On a map for a product, the frameworks of that product count, and those
that name no product (they serve every product).

A milestone link's target is "framework key/milestone key", which stays the same when frameworks are
exported and applied elsewhere; a framework made before keys existed is linked by milestone id.
"""

from __future__ import annotations

from datetime import date

from django.db.models import Min, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from touchpoint.accounts.rules import readable_accounts_q
from touchpoint.readiness.kpis import Kpi, KpiContext, KpiValue, kpis
from touchpoint.readiness.links import Serves, link_kinds
from touchpoint.success.milestone_selectors import account_start_dates, stats_of
from touchpoint.success.models import MilestoneDefinition, MilestoneReached

# Past this many accounts the start dates are read for all of them (a long IN list is slower).
_MANY_ACCOUNTS = 5_000


def time_to_first_value(context: KpiContext) -> KpiValue | None:
    """Median days from start to first value, of the accounts that first reached it in the period
    (two queries)."""
    previous_start, _previous_end = context.previous_window()
    reaches = MilestoneReached.objects.filter(milestone__is_first_value=True).order_by()
    if context.reader is not None:
        reaches = reaches.filter(readable_accounts_q(context.reader, "account__"))
    if context.product:
        reaches = reaches.filter(
            Q(milestone__framework__product__iexact=context.product) | Q(milestone__framework__product="")
        )
    first_reached = dict(
        reaches.values("account_id")
        .annotate(first=Min("reached_on"))
        .filter(first__gte=previous_start, first__lte=context.today)
        .values_list("account_id", "first")
    )
    if not first_reached:
        return None
    starts = account_start_dates(first_reached if len(first_reached) < _MANY_ACCOUNTS else None)

    def days(window: tuple[date, date]) -> list[int]:
        return [
            max(0, (reached - starts[account]).days)
            for account, reached in first_reached.items()
            if window[0] <= reached <= window[1] and account in starts
        ]

    latest, previous = stats_of(days(context.window())), stats_of(days(context.previous_window()))
    if latest.median is None:
        return None
    return KpiValue(value=latest.median, previous=previous.median, better="lower", count=latest.count)


def milestone_choices() -> list[tuple[str, str]]:
    """Every framework's milestones, in the framework's order, as (target, "Framework › Milestone")."""
    milestones = MilestoneDefinition.objects.select_related("framework").order_by(
        "framework__name", "position", "id"
    )
    return [
        (_target(milestone), f"{milestone.framework.name} › {milestone.name}") for milestone in milestones
    ]


def _target(milestone: MilestoneDefinition) -> str:
    if milestone.framework.key:
        return f"{milestone.framework.key}/{milestone.key}"
    return str(milestone.pk)


def resolve_milestone(target: str) -> tuple[str, str] | None:
    """("Framework › Milestone", its row on the framework's page), None when it is gone."""
    milestones = MilestoneDefinition.objects.select_related("framework")
    framework_key, slash, milestone_key = target.partition("/")
    if slash and framework_key and milestone_key:
        milestone = milestones.filter(framework__key=framework_key, key=milestone_key).first()
    elif not slash and target.isascii() and target.isdigit():  # "²" and "٣" are digits to isdigit, not ids
        milestone = milestones.filter(pk=int(target)).first()
    else:
        milestone = None
    if milestone is None:
        return None
    url = reverse("success-framework", args=[milestone.framework_id]) + f"#milestone-{milestone.key}"
    return f"{milestone.framework.name} › {milestone.name}", url


def register() -> None:
    kpis.add(
        Kpi(
            key="time_to_first_value",
            label=_("Time to first value"),
            stage="use",
            unit=_("days"),
            compute=time_to_first_value,
            order=10,
            permission="success.view_successframework",
        )
    )
    link_kinds.add(
        key="milestone",
        label=_("Milestone"),
        serves=Serves.MEASURED,
        choices=milestone_choices,
        resolve=resolve_milestone,
        order=30,
    )
