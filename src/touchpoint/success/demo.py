"""Demo step "success": the default "Standard" framework (four phases) and a shorter "Self-serve" one,
applied from the shipped YAML files (success/library/), and every account's place in them.

Each phase says, in the customer's terms, what they do in it and what they expect from us, and which
rules on data put an account in it. Small low-touch customers mostly walk the self-serve path (set by
hand: the shipped frameworks name no segments). Which phase an account is in here follows from its
age (`phase_for_age`), which the phase rules mostly agree with: young accounts onboard, older ones
adopt, and those near an anniversary renew. Placements are written as
`success.services.place_account` writes them: the row, and a "phase_changed" timeline entry.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext_lazy as _

from touchpoint.accounts.demo import SMB
from touchpoint.accounts.models import EngagementModel, TimelineEntry
from touchpoint.demo.builders import (
    TIMELINE_COLUMNS,
    DemoAccount,
    DemoContext,
    register_data,
    step,
    timeline_row,
)
from touchpoint.success.documents import apply_text
from touchpoint.success.models import AccountPlacement, LifecyclePhase, SuccessFramework
from touchpoint.success.services import placement_title

STANDARD = "Standard"
SELF_SERVE = "Self-serve"

# The shipped frameworks (success/library/), applied as a leader would apply them: their phases carry
# entry rules on data, which the placement engine applies from then on.
LIBRARY = Path(__file__).parent / "library"
LIBRARY_FILES = {STANDARD: "standard.yaml", SELF_SERVE: "self-serve.yaml"}


def phase_for_age(framework: str, age_days: int) -> str:
    """The phase an account of this age is in: young ones onboard, older ones adopt or renew."""
    days_into_term = age_days % 365
    if framework == SELF_SERVE:
        if age_days < 21:
            return "Activation"
        return "Renewal" if age_days >= 300 and days_into_term >= 335 else "Adoption"
    if age_days < 30:
        return "Onboarding"
    if age_days < 90:
        return "First use"
    return "Renewal" if days_into_term >= 275 else "Adoption"


def _framework_for(rng: random.Random, demo_account: DemoAccount) -> str:
    account = demo_account.account
    segment = account.segment.name if account.segment else ""
    if segment == SMB and account.engagement_model == EngagementModel.LOW_TOUCH:
        return SELF_SERVE if rng.random() < 0.9 else STANDARD
    if segment == SMB and rng.random() < 0.3:
        return SELF_SERVE
    return STANDARD


def _entered_at(ctx: DemoContext, created_at: datetime, framework: str, age_days: int) -> datetime:
    """When the account entered the phase it is in now (its first day with that phase)."""
    phase = phase_for_age(framework, age_days)
    start = age_days
    while start > 0 and phase_for_age(framework, start - 1) == phase:
        start -= 1
    # Nothing lies in the future: a phase that began on the anchor day began before the window's end.
    return min(created_at + timedelta(days=start), ctx.end - timedelta(minutes=1))


@step("success", after=("accounts",))
def success(ctx: DemoContext) -> None:
    frameworks: dict[str, SuccessFramework] = {}
    phases: dict[tuple[str, str], LifecyclePhase] = {}
    for name, file_name in LIBRARY_FILES.items():
        # The demo places its accounts below, before any usage exists: no catching up here.
        framework = apply_text((LIBRARY / file_name).read_text(encoding="utf-8"), actor=None, catch_up=False)
        assert framework.name == name, framework.name
        frameworks[name] = framework
        ctx.counts["success.successframework"] += 1
        for phase in framework.phases.all():
            phases[(name, phase.name)] = phase
            ctx.counts["success.lifecyclephase"] += 1
        ctx.counts["success.milestonedefinition"] += framework.milestones.count()
    ctx.shared["success"] = {"frameworks": frameworks, "phases": phases}

    placements: list[AccountPlacement] = []
    for demo_account in ctx.accounts:
        account = demo_account.account
        path = _framework_for(ctx.rng, demo_account)
        age_days = (ctx.anchor - account.created_at.astimezone(ctx.tz).date()).days
        placements.append(
            AccountPlacement(
                account=account,
                framework=frameworks[path],
                phase=phases[(path, phase_for_age(path, age_days))],
                entered_at=_entered_at(ctx, account.created_at, path, age_days),
                # Not the default's path: kept when the placement engine places accounts by segment.
                framework_set_by_hand=path != STANDARD,
            )
        )
    ctx.bulk_create(AccountPlacement, placements)
    placement_type = ContentType.objects.get_for_model(AccountPlacement).pk
    ctx.insert_rows(
        TimelineEntry,
        TIMELINE_COLUMNS,
        [
            timeline_row(
                account_id=placement.account_id,
                kind="phase_changed",
                occurred_at=placement.entered_at,
                title=placement_title(placed_in, placed_at),
                subject_type_id=placement_type,
                subject_id=placement.pk,
                data={"changes": {"framework": [None, placed_in.name], "phase": [None, placed_at.name]}},
            )
            for placement in placements
            if (placed_in := placement.framework) is not None and (placed_at := placement.phase) is not None
        ],
    )


# After the accounts (whose deletion takes their placements) and segments.
register_data(
    "success frameworks",
    label=_("success frameworks"),
    count=lambda: SuccessFramework.objects.count(),
    delete=lambda: SuccessFramework.objects.all().delete(),
    order=30,
)

# The placement engine's step (runs at the end of the demo's window).
# The milestone part's step lives in its own module; the demo runner imports only `demo`.
from touchpoint.success import (  # noqa: E402
    demo_milestones,  # noqa: F401
    demo_placement,  # noqa: F401
)
