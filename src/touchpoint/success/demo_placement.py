"""Demo step "success-placement": the placement engine runs once at the demo's end, as the daily run
would, so every account sits where its framework's rules put it on the data the earlier steps made
(subscriptions and renewals, usage rollups, health, milestones reached).

The "success" step placed accounts by age; this run moves those the rules place elsewhere, each
move on the timeline and as a "phase.changed" event, as a real run records it. Frameworks whose
phases have no rules at all (an old database, or before the framework texts with their rules are
applied) are left as the "success" step placed them: with no rules every phase holds, and the
engine would put every account in the last one.
"""

from __future__ import annotations

import importlib
import importlib.util
from datetime import timedelta

from django.apps import apps

from touchpoint.demo import builders
from touchpoint.demo.builders import DemoContext, step
from touchpoint.success.models import LifecyclePhase
from touchpoint.success.placement import place_all


def _steps_before() -> tuple[str, ...]:
    """Every step that writes what the rules read, of the apps installed. Those apps' demo modules
    are discovered after this one (INSTALLED_APPS order), so their step names come from the apps;
    the milestones step (success/demo_milestones.py, when present) is imported here to exist."""
    names = ["success"]
    for app, steps in (("usage", ("usage",)), ("revenue", ("revenue", "renewals")), ("health", ("health",))):
        if apps.is_installed(f"touchpoint.{app}"):
            names.extend(steps)
    if importlib.util.find_spec("touchpoint.success.demo_milestones") is not None:
        importlib.import_module("touchpoint.success.demo_milestones")
    if "success-milestones" in builders._STEPS:
        names.append("success-milestones")
    return tuple(names)


@step("success-placement", after=_steps_before())
def success_placement(ctx: DemoContext) -> None:
    if not LifecyclePhase.objects.exclude(entry_rules=[]).exists():
        ctx.counts["success placement skipped (no phase rules)"] += 1
        return
    # The last moment of the window: nothing the demo writes lies after ctx.end.
    stats = place_all(now=ctx.end - timedelta(seconds=1))
    ctx.counts["success phase moves"] += stats.moved
    ctx.shared["success-placement"] = {"moved": stats.moved, "overrides_dropped": stats.overrides_dropped}
