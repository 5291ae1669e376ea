"""Demo step "success-milestones": milestones reached over the demo company's usage history.

Product milestones are found by the real detection (`milestones.record_from_usage`) over the rollups
and raw events the usage step wrote, so the timeline, the funnel and time to value read what
production would have recorded. Outcome milestones are set by hand on a share of the accounts that
reached first value, more often for good fits, some weeks after it, with evidence and the champion (or
decision maker) who confirmed it; poor fits and young accounts stall before them.

When the frameworks carry no milestones yet (the framework texts are the framework part's to ship),
this step gives them a set that matches the demo's product events.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.contenttypes.models import ContentType

from touchpoint.accounts.models import ContactRole, TimelineEntry
from touchpoint.demo.builders import TIMELINE_COLUMNS, DemoContext, step, timeline_row
from touchpoint.success import milestones
from touchpoint.success.models import (
    MilestoneDefinition,
    MilestoneKind,
    MilestoneReached,
    MilestoneSource,
    SuccessFramework,
)

# (key, name, rule or None for an outcome, first value, stall after days), per framework name.
FALLBACK: dict[str, list[tuple[str, str, dict | None, bool, int]]] = {
    "Standard": [
        ("first-dashboard", "First dashboard viewed", {"event": "Dashboard viewed"}, False, 14),
        ("first-report", "First report created", {"event": "Report created"}, True, 30),
        ("five-active", "Five people active in a week", {"active_users": 5, "within_days": 7}, False, 45),
        ("three-key-features", "Three key features in use", {"key_features": 3}, False, 60),
        ("roi-confirmed", "The customer confirmed the return they expected", None, False, 90),
    ],
    "Self-serve": [
        ("first-dashboard", "First dashboard viewed", {"event": "Dashboard viewed"}, False, 7),
        ("first-report", "First report created", {"event": "Report created"}, True, 21),
        ("team-invited", "Invited the team", {"event": "User invited", "count": 2}, False, 30),
        ("value-confirmed", "The customer said it saves them time", None, False, 60),
    ],
}

EVIDENCE = [
    "QBR: month-end close down from nine days to four.",
    "Customer's own survey: the team saves about three hours a week on reporting.",
    "Champion's email: the board now gets the weekly report without manual work.",
    "Renewal call: they hit the adoption target they set at the kickoff.",
    "Executive sponsor confirmed the support backlog halved since go-live.",
]


def _ensure_milestones(framework: SuccessFramework) -> None:
    if framework.milestones.exists():
        return
    MilestoneDefinition.objects.bulk_create(
        [
            MilestoneDefinition(
                framework=framework,
                key=key,
                name=name,
                kind=MilestoneKind.PRODUCT if rule else MilestoneKind.OUTCOME,
                rule=rule or {},
                is_first_value=first_value,
                position=position,
                stall_after_days=stall,
            )
            for position, (key, name, rule, first_value, stall) in enumerate(FALLBACK.get(framework.name, []))
        ]
    )


@step("success-milestones", after=("success", "usage"))
def success_milestones(ctx: DemoContext) -> None:
    frameworks = list(SuccessFramework.objects.all())
    for framework in frameworks:
        _ensure_milestones(framework)
    yesterday = ctx.anchor - timedelta(days=1)  # the demo holds no events from the anchor day on
    ctx.counts["success.milestonereached"] += milestones.record_from_usage(as_of=yesterday)

    # Outcomes, by hand: after first value, for a share of the accounts (good fits more often).
    first_value = {m.framework_id: m for m in MilestoneDefinition.objects.filter(is_first_value=True)}
    outcomes = {
        m.framework_id: m
        for m in MilestoneDefinition.objects.filter(kind=MilestoneKind.OUTCOME).order_by("-position")
    }
    reached = {
        account_id: (day, framework_id)
        for account_id, day, framework_id in MilestoneReached.objects.filter(
            milestone__in=list(first_value.values())
        ).values_list("account_id", "reached_on", "milestone__framework_id")
    }
    rows: list[MilestoneReached] = []
    for demo_account in ctx.accounts:
        account = demo_account.account
        began, framework_id = reached.get(account.pk, (None, None))
        outcome = outcomes.get(framework_id) if framework_id is not None else None
        if began is None or outcome is None or ctx.rng.random() > demo_account.fit * 0.8:
            continue  # stalls before the outcome
        day = began + timedelta(days=ctx.rng.randint(20, 120))
        if day >= ctx.anchor or (demo_account.churned_on and day >= demo_account.churned_on):
            continue
        people = demo_account.contacts_with(ContactRole.CHAMPION) or demo_account.contacts_with(
            ContactRole.DECISION_MAKER
        )
        rows.append(
            MilestoneReached(
                account=account,
                milestone=outcome,
                reached_on=day,
                source=MilestoneSource.MANUAL,
                evidence=ctx.rng.choice(EVIDENCE),
                confirmed_by_contact=people[0].contact if people else None,
                confirmed_by_name="" if people else "Customer's project lead",
                recorded_by_id=account.owner_id,
                recorded_at=ctx.at(day, 16),
            )
        )
    created = ctx.bulk_create(MilestoneReached, rows)
    subject_type = ContentType.objects.get_for_model(MilestoneReached).pk
    ctx.insert_rows(
        TimelineEntry,
        TIMELINE_COLUMNS,
        [
            timeline_row(
                account_id=reach.account_id,
                kind="milestone_reached",
                occurred_at=ctx.at(reach.reached_on, 12),
                title=milestones.timeline_title(reach.milestone),
                body=reach.evidence,
                actor_id=reach.recorded_by_id,
                subject_type_id=subject_type,
                subject_id=reach.pk,
                data=milestones.timeline_data(
                    reach.milestone, source=reach.source, reached_on=reach.reached_on.isoformat()
                ),
                recorded_at=reach.recorded_at,
            )
            for reach in created
        ],
    )
