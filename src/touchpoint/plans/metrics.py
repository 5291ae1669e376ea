"""The numbers of a success plan, as pure functions (no ORM): the health measure's SQL computes the same."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal


def kpi_progress(
    *, baseline: Decimal | None, target: Decimal | None, current: Decimal | None
) -> float | None:
    """How far a KPI has come from its baseline toward its target, 0 to 1 (None: not measurable yet).

    Works for KPIs that should fall (days to close: baseline 10, target 5) as for those that should rise.
    Going the wrong way counts as 0, passing the target as 1.
    """
    if baseline is None or target is None or current is None or target == baseline:
        return None
    share = float((current - baseline) / (target - baseline))
    return min(1.0, max(0.0, share))


def plan_progress(
    *, kpi_progresses: Iterable[float | None], milestones_due: int, milestones_done: int
) -> float | None:
    """A plan's progress in percent: the mean of its KPIs' progress and its due milestones done.

    Each part counts when it has something to say (a measurable KPI, a milestone due); nothing to say
    is None, not 0, so a plan just written does not look like a failing one.
    """
    parts: list[float] = []
    measured = [p for p in kpi_progresses if p is not None]
    if measured:
        parts.append(sum(measured) / len(measured))
    if milestones_due > 0:
        parts.append(min(milestones_done, milestones_due) / milestones_due)
    if not parts:
        return None
    return 100.0 * sum(parts) / len(parts)
