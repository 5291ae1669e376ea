"""Demo step "success": the default "Standard" framework (four phases) and a shorter "Self-serve" one.

Each phase says, in the customer's terms, what they do in it and what they expect from us. Which
phase an account is in follows from its age (`phase_for_age`), as the phase rules will decide it
from data later: young accounts onboard, older ones adopt, and those near an anniversary renew.
"""

from __future__ import annotations

from touchpoint.demo.builders import DemoContext, step
from touchpoint.success.models import LifecyclePhase, SuccessFramework

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


@step("success")
def success(ctx: DemoContext) -> None:
    for name, spec in FRAMEWORKS.items():
        framework = SuccessFramework.objects.create(
            name=name, description=spec["description"], is_default=spec["is_default"]
        )
        ctx.frameworks[name] = framework
        ctx.counts["success.successframework"] += 1
        phases = ctx.bulk_create(
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
        for phase in phases:
            ctx.phases[(name, phase.name)] = phase
