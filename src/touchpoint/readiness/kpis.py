"""The KPIs each stage of a map shows, computed from Touchpoint's own data by the apps that hold it.

Readiness declares the KPIs a stage is expected to show (`SLOTS`: time to close in "buy", NPS in
"stay"…), each with what to do to bring its data. An app fills a slot by registering a Kpi with the
slot's key, from its own package (readiness names none of the apps):

    from touchpoint.readiness.kpis import Kpi, KpiValue, kpis
    kpis.add(Kpi(key="time_to_close", label=_("Time to close"), stage="buy", unit=_("days"),
                 compute=lambda context: KpiValue(value=34.0, previous=41.0, better="lower"),
                 order=10))

A Kpi whose key is no slot's is shown after the stage's slots. `stage` is the template's stage key
(hear, buy, use, stay); a map whose stages were renamed keeps the keys. `compute(context)` returns a
KpiValue over `context.window()` against `context.previous_window()`, or None when there is no data
yet, and the cell then says so with `how_to_bring` (never a made-up number). `cells()` is what a page
shows: one cell per slot and per extra KPI, a compute that fails logged and shown as an error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from touchpoint.registry import Registry

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class KpiContext:
    """What a KPI is computed for: the map's product (empty: every product) up to `today`, the
    latest `days` against the `days` before them, over the accounts `reader` may read (None: every
    account; `cells` sets it to the person looking)."""

    product: str
    today: date
    days: int = 90
    reader: Any = None

    def window(self) -> tuple[date, date]:
        """The latest period, first and last day (inclusive): the `days` ending today."""
        return self.today - timedelta(days=self.days - 1), self.today

    def previous_window(self) -> tuple[date, date]:
        """The `days` before the latest period, for the trend."""
        start, _end = self.window()
        return start - timedelta(days=self.days), start - timedelta(days=1)


@dataclass(frozen=True)
class KpiValue:
    value: float
    previous: float | None = None  # the period before, for the trend
    better: str = "higher"  # "higher" or "lower": which way is good
    count: int | None = None  # what it was computed over (accounts, tickets, answers)
    # How far from the previous value still reads as flat (None: 1 % of it). A figure that lives near a
    # bound says its own: uptime's 99.0 against 99.9 is within 1 % yet ten times the downtime.
    flat_within: float | None = None

    @property
    def trend(self) -> str:
        """ "up", "down" or "flat" (within `flat_within`, by default 1 % of the previous value), "" without
        one."""
        if self.previous is None:
            return ""
        within = abs(self.previous) * 0.01 if self.flat_within is None else abs(self.flat_within)
        if abs(self.value - self.previous) <= within:
            return "flat"
        return "up" if self.value > self.previous else "down"

    @property
    def improving(self) -> bool | None:
        if self.trend in ("", "flat"):
            return None
        return (self.trend == "up") == (self.better == "higher")


@dataclass(frozen=True)
class Kpi:
    key: str
    label: str | Promise
    stage: str
    unit: str | Promise
    compute: Callable[[KpiContext], KpiValue | None]
    how_to_bring: str | Promise = ""
    order: int = 100
    permission: str | None = None
    decimals: int = 1  # shown (and given by the API) to this many places: uptime needs three, money none


class Kpis(Registry[Kpi]):
    def add(self, kpi: Kpi) -> Kpi:
        return self._put(kpi.key, kpi)

    def for_stage(self, stage: str) -> list[Kpi]:
        return [kpi for kpi in self.all() if kpi.stage == stage]


kpis = Kpis()


@dataclass(frozen=True)
class Slot:
    """A KPI a stage is expected to show, filled or not: readiness's own list, in the stage's order."""

    key: str
    stage: str
    label: str | Promise
    unit: str | Promise
    how_to_bring: str | Promise


_RECORD_REVENUE = _(
    "Record subscriptions and their MRR changes (connect Stripe, import subscriptions or enter them by "
    "hand), and the figure shows here."
)

# "hear" has none: Touchpoint holds no marketing data (leads, visits, campaigns), and an account's
# creation day is when it reached Touchpoint (an import makes hundreds at once), not when it heard of
# the product. A plug-in that knows better adds its KPI to "hear" like any other.
SLOTS: tuple[Slot, ...] = (
    Slot(
        key="time_to_close",
        stage="buy",
        label=_("Time to close"),
        unit=_("days"),
        how_to_bring=_(
            "Give subscriptions the days their deal was opened and closed (through the API), and the "
            "median days from one to the other show here."
        ),
    ),
    Slot(
        key="time_to_revenue",
        stage="buy",
        label=_("Time to revenue"),
        unit=_("days"),
        how_to_bring=_(
            "Give subscriptions the day their deal closed and the day of their first payment (Stripe "
            "records it, or set it through the API), and the median days between them show here."
        ),
    ),
    Slot(
        key="time_to_first_value",
        stage="use",
        label=_("Time to first value"),
        unit=_("days"),
        how_to_bring=_(
            "Mark one milestone of your success framework as first value; once accounts reach it, the "
            "median days from their start show here."
        ),
    ),
    Slot(
        key="time_to_fix",
        stage="use",
        label=_("Time to fix"),
        unit=_("hours"),
        how_to_bring=_(
            "Import support tickets (with opened and resolved times), and the median time to fix shows here."
        ),
    ),
    Slot(
        key="sla_compliance",
        stage="use",
        label=_("SLA compliance"),
        unit="%",
        how_to_bring=_(
            "Import support tickets with their SLA targets, and the share of tickets resolved within "
            "them shows here."
        ),
    ),
    Slot(
        key="uptime",
        stage="use",
        label=_("Uptime"),
        unit="%",
        how_to_bring=_(
            "Record the product's uptime for each month (by hand, or posted by your monitoring), and the "
            "mean of the last three complete months shows here."
        ),
    ),
    Slot(
        key="nps",
        stage="stay",
        label=_("NPS"),
        unit="",
        how_to_bring=_("Send NPS surveys, or import answers, and the score shows here."),
    ),
    Slot(
        key="lifetime_value",
        stage="stay",
        label=_("Customer lifetime value"),
        unit="",
        how_to_bring=_(
            "Record subscriptions and their MRR changes (connect Stripe, import subscriptions or enter "
            "them by hand); once some revenue has churned, lifetime value shows here."
        ),
    ),
    Slot(key="grr", stage="stay", label=_("Gross revenue retention"), unit="%", how_to_bring=_RECORD_REVENUE),
    Slot(key="nrr", stage="stay", label=_("Net revenue retention"), unit="%", how_to_bring=_RECORD_REVENUE),
)


def slots_for(stage_key: str) -> list[Slot]:
    return [slot for slot in SLOTS if slot.stage == stage_key]


@dataclass(frozen=True)
class KpiCell:
    """One KPI as a stage shows it. `value` None: no data (say `how_to_bring`), or, with `error`, its
    compute failed (logged)."""

    key: str
    label: str | Promise
    unit: str | Promise
    value: KpiValue | None
    how_to_bring: str | Promise
    error: bool = False

    @property
    def has_data(self) -> bool:
        return self.value is not None


def _computed(kpi: Kpi, context: KpiContext, slot: Slot | None) -> KpiCell:
    how_to_bring = kpi.how_to_bring or (slot.how_to_bring if slot is not None else "")
    try:
        value = kpi.compute(context)
    except Exception:  # one broken KPI says so in its cell; the page around it stays up
        logger.exception("Readiness KPI %r failed for product %r", kpi.key, context.product)
        return KpiCell(kpi.key, kpi.label, kpi.unit, None, how_to_bring, error=True)
    if value is not None:
        value = replace(
            value,
            value=round(value.value, kpi.decimals),
            previous=None if value.previous is None else round(value.previous, kpi.decimals),
        )
    return KpiCell(kpi.key, kpi.label, kpi.unit, value, how_to_bring)


def cells(stage_key: str, context: KpiContext, user: Any) -> list[KpiCell]:
    """The stage's KPIs as `user` sees them: its slots in order (filled by the app that registered the
    key, else "no data" with how to bring it), then the other KPIs registered for the stage. A KPI
    with a permission the user lacks is left out, slot and all; values cover the accounts they read."""
    if context.reader is None and user is not None:
        context = replace(context, reader=user)
    visible = {kpi.key for kpi in kpis.visible_to(user)}
    found: list[KpiCell] = []
    for slot in slots_for(stage_key):
        kpi = kpis.get(slot.key)
        if kpi is None:
            found.append(KpiCell(slot.key, slot.label, slot.unit, None, slot.how_to_bring))
        elif kpi.key in visible:
            found.append(_computed(kpi, context, slot))
    slot_keys = {slot.key for slot in SLOTS}
    for kpi in kpis.for_stage(stage_key):
        if kpi.key not in slot_keys and kpi.key in visible:
            found.append(_computed(kpi, context, None))
    return found
