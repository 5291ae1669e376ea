"""Demo step "success": the default "Standard" framework (four phases) and a shorter "Self-serve" one,
and every account's place in them.

Each phase says, in the customer's terms, what they do in it and what they expect from us. Small
low-touch customers mostly walk the self-serve path. Which phase an account is in follows from its
age (`phase_for_age`), as the phase rules will decide it from data later: young accounts onboard,
older ones adopt, and those near an anniversary renew. Placements are written as
`success.services.place_account` writes them: the row, and a "phase_changed" timeline entry.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

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
from touchpoint.success.models import AccountPlacement, LifecyclePhase, SuccessFramework
from touchpoint.success.services import placement_title

STANDARD = "Standard"
SELF_SERVE = "Self-serve"

FRAMEWORKS: dict[str, dict] = {
    STANDARD: {
        "description": "The path for customers with a named CSM, from the kickoff to the renewal.",
        "is_default": True,
        "phases": [
            (
                "Onboarding",
                "Signs the contract, meets the team at a kickoff, connects data sources and invites the "
                "first admins.",
                "A clear plan with dates, one named contact, and a working setup within weeks.",
            ),
            (
                "First use",
                "Runs the first real workflows, trains the core team and reaches the first agreed milestone.",
                "Quick answers to early questions and visible value from the first reports.",
            ),
            (
                "Adoption",
                "Rolls the product out to more teams, uses more of it and reviews results against the "
                "success plan.",
                "Regular reviews, good practice from similar customers, and a say in the roadmap.",
            ),
            (
                "Renewal",
                "Looks back at the value delivered over the term, confirms the budget and decides on the "
                "renewal and any expansion.",
                "An honest summary of outcomes, a fair proposal in good time, and no surprises on price.",
            ),
        ],
    },
    SELF_SERVE: {
        "description": "For small teams that buy online and set themselves up, helped by email, "
        "in-app guides and webinars.",
        "is_default": False,
        "phases": [
            (
                "Activation",
                "Signs up, follows the in-app setup guide and invites teammates.",
                "To get going without a call, with help one click away.",
            ),
            (
                "Adoption",
                "Uses the product every week and tries the features suggested in the app and by email.",
                "Timely tips, webinars, and a quick answer from support when stuck.",
            ),
            (
                "Renewal",
                "Renews the plan online, or changes it as the team grows or shrinks.",
                "A reminder before the charge, easy plan changes and a clear invoice.",
            ),
        ],
    },
}


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
    for name, spec in FRAMEWORKS.items():
        framework = SuccessFramework.objects.create(
            name=name, description=spec["description"], is_default=spec["is_default"]
        )
        frameworks[name] = framework
        ctx.counts["success.successframework"] += 1
        created = ctx.bulk_create(
            LifecyclePhase,
            [
                LifecyclePhase(
                    framework=framework,
                    name=phase,
                    position=position,
                    customer_does=does,
                    customer_expects=expects,
                )
                for position, (phase, does, expects) in enumerate(spec["phases"])
            ],
        )
        for phase in created:
            phases[(name, phase.name)] = phase
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
