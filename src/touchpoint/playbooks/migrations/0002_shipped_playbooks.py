"""The playbooks Touchpoint ships (onboarding, renewal 120/90/60/30, risk escalation, executive business
review) and the rules wired to them, from the first migrate; and the rules' consumer placed after the
events that exist already, so installing playbooks does not start them for a year of history."""

from django.db import migrations

# (title, day_offset, task type, priority 1 high / 2 normal / 3 low, owner role, notes)
SHIPPED = {
    "Onboarding": {
        "reason": "A new customer's first 60 days: kickoff, training, adoption, then a success plan.",
        "steps": [
            (
                "Kickoff call",
                0,
                "meeting",
                1,
                "account_owner",
                "Introduce the team, agree goals and the first milestones.",
            ),
            ("Training session", 7, "meeting", 2, "account_owner", "Train the admins and first users."),
            (
                "Adoption review",
                30,
                "review",
                2,
                "account_owner",
                "Who uses what? Follow up with the quiet teams.",
            ),
            (
                "Success plan review",
                60,
                "review",
                2,
                "account_owner",
                "Check the goals from the kickoff and write the success plan.",
            ),
        ],
    },
    "Renewal": {
        "reason": "The renewal conversation starts well before the date: 120, 90, 60 and 30 days out. "
        "Anchored on the renewal date.",
        "steps": [
            (
                "Renewal review: internal prep",
                -120,
                "review",
                2,
                "account_owner",
                "Usage, health, open issues, stakeholders and the commercial history.",
            ),
            (
                "Customer value review (EBR)",
                -90,
                "meeting",
                2,
                "account_owner",
                "Show the value delivered; hear the plans for next year.",
            ),
            ("Send the renewal proposal", -60, "renewal", 1, "account_owner", ""),
            (
                "Commit: signature and order form",
                -30,
                "renewal",
                1,
                "account_owner",
                "Chase the signature; escalate early if it stalls.",
            ),
        ],
    },
    "Risk escalation": {
        "reason": "Health turned red: understand why, call with a leader, agree a recovery plan, check it worked.",
        "steps": [
            (
                "Triage: what changed and why",
                0,
                "risk",
                1,
                "account_owner",
                "Read the health measures that moved and the latest touches.",
            ),
            ("Call the customer with your CS leader", 2, "call", 1, "leader", ""),
            (
                "Agree a recovery plan",
                7,
                "risk",
                1,
                "account_owner",
                "Write down the actions, owners and dates with the customer.",
            ),
            (
                "Check the recovery",
                30,
                "review",
                2,
                "account_owner",
                "Is health back? If not, escalate again.",
            ),
        ],
    },
    "Executive business review": {
        "reason": "A review with the customer's executives: outcomes so far and the plan ahead.",
        "steps": [
            ("Prepare the EBR deck: outcomes, usage, ROI", 0, "review", 2, "account_owner", ""),
            ("Schedule the EBR with the executive sponsor", 3, "meeting", 2, "account_owner", ""),
            ("Hold the executive business review", 14, "meeting", 1, "account_owner", ""),
            ("Send the summary and agreed next steps", 16, "other", 2, "account_owner", ""),
        ],
    },
}

# (trigger, playbook, active, parameters)
RULES = [
    ("renewal_due", "Renewal", True, {"days_before": 120}),
    ("health_red", "Risk escalation", True, {}),
    ("new_account", "Onboarding", True, {"max_age_days": 30}),
    ("champion_left", "Risk escalation", False, {}),
]

CONSUMER = "playbooks.rules"  # as touchpoint.playbooks.triggers.CONSUMER


def ship(apps, schema_editor):
    db = schema_editor.connection.alias
    Playbook = apps.get_model("playbooks", "Playbook")
    PlaybookStep = apps.get_model("playbooks", "PlaybookStep")
    PlaybookRule = apps.get_model("playbooks", "PlaybookRule")
    for name, spec in SHIPPED.items():
        playbook, created = Playbook.objects.using(db).get_or_create(
            name=name, defaults={"reason": spec["reason"]}
        )
        if not created:
            continue  # someone already has a playbook of that name: leave it as they wrote it
        PlaybookStep.objects.using(db).bulk_create(
            PlaybookStep(
                playbook=playbook,
                position=position,
                title=title,
                day_offset=offset,
                task_type=task_type,
                priority=priority,
                owner_role=owner_role,
                notes=notes,
            )
            for position, (title, offset, task_type, priority, owner_role, notes) in enumerate(
                spec["steps"], 1
            )
        )
    for kind, playbook_name, active, parameters in RULES:
        playbook = Playbook.objects.using(db).get(name=playbook_name)
        PlaybookRule.objects.using(db).get_or_create(
            kind=kind, defaults={"playbook": playbook, "is_active": active, "parameters": parameters}
        )
    DomainEvent = apps.get_model("events", "DomainEvent")
    ConsumerPosition = apps.get_model("events", "ConsumerPosition")
    newest = (
        DomainEvent.objects.using(db)
        .order_by("-transaction_id", "-id")
        .values_list("transaction_id", "id")
        .first()
    )
    transaction_id, event_id = newest or (0, 0)
    ConsumerPosition.objects.using(db).get_or_create(
        name=CONSUMER, defaults={"transaction_id": transaction_id, "event_id": event_id}
    )


class Migration(migrations.Migration):
    dependencies = [("playbooks", "0001_playbooks"), ("events", "0001_initial")]

    operations = [migrations.RunPython(ship, migrations.RunPython.noop)]
