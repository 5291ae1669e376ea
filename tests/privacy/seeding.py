"""A person seeded in every app that can hold them, through the product's own services where it can.

`seed(world)` calls every seeder below; each one puts the person (THE_NAME, THE_EMAIL, THE_PHONE,
THE_USER_ID, THE_IP) into one app and returns the app's export key it should show up under.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import orjson
from django.apps import apps
from django.db import connection, models
from django.test import Client
from django.utils import timezone

THE_NAME = "Zebulon Quaxley"
THE_EMAIL = "zebulon.quaxley@example.org"
THE_PHONE = "+1 555 0199 7734"
THE_USER_ID = "usr-zq-7734"
THE_ANONYMOUS_ID = "anon-zq-5521"
THE_IP = "203.0.113.77"
NEEDLES = (THE_NAME, THE_EMAIL, THE_PHONE, THE_USER_ID, THE_ANONYMOUS_ID, THE_IP)


@dataclass
class World:
    admin: Any
    account: Any
    contact: Any = None
    source: Any = None
    other_contact: Any = None
    expected_parts: set[str] = field(default_factory=set)


def post_events(source, batch: list[dict]) -> Any:
    key = base64.b64encode(f"{source.write_key}:".encode()).decode()
    return Client().post(
        "/v1/batch",
        orjson.dumps({"batch": batch}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Basic {key}",
    )


def seed_accounts(world: World) -> None:
    from touchpoint.accounts import services

    world.contact = services.create_contact(
        account=world.account,
        name=THE_NAME,
        email=THE_EMAIL,
        phone=THE_PHONE,
        title="Head of Quaxley Operations",
        external_id=THE_USER_ID,
        roles=["champion"],
        actor=world.admin,
    )
    world.other_contact = services.create_contact(
        account=world.account, name="Ordinary Person", email="ordinary@example.org", actor=world.admin
    )
    from touchpoint.accounts.models import Engagement

    engagement = Engagement.objects.create(
        account=world.account, kind="call", subject=f"Call with {THE_NAME}", body=f"Reach at {THE_PHONE}"
    )
    engagement.contacts.add(world.contact)
    services.record_on_timeline(
        account=world.account,
        kind="note",
        title=f"Met {THE_NAME}",
        body=f"{THE_EMAIL} wants a demo",
        actor=world.admin,
    )
    world.expected_parts |= {"accounts", "timeline", "events", "users"}


def seed_usage(world: World) -> None:
    from touchpoint.usage import rollups
    from touchpoint.usage.services import create_source

    world.source = create_source(name="Web app", actor=world.admin)
    day = timezone.now() - timedelta(days=1)
    context = {"ip": THE_IP, "userAgent": "QuaxBrowser/1.0", "traits": {"email": THE_EMAIL}}
    batch = [
        {
            "type": "identify",
            "messageId": "zq-1",
            "userId": THE_USER_ID,
            "anonymousId": THE_ANONYMOUS_ID,
            "traits": {"email": THE_EMAIL, "name": THE_NAME, "phone": THE_PHONE},
            "context": context,
            "timestamp": day.isoformat(),
        },
        {
            "type": "group",
            "messageId": "zq-2",
            "userId": THE_USER_ID,
            "groupId": world.account.external_id,
            "context": context,
            "timestamp": day.isoformat(),
        },
    ]
    batch += [
        {
            "type": "track",
            "messageId": f"zq-t{i}",
            "userId": THE_USER_ID,
            "event": "Report exported",
            "properties": {"recipient": THE_EMAIL},
            "context": context,
            "timestamp": (day + timedelta(minutes=i)).isoformat(),
        }
        for i in range(5)
    ]
    batch += [
        {
            "type": "track",
            "messageId": f"other-{i}",
            "userId": "someone-else",
            "event": "Report exported",
            "context": {"ip": "198.51.100.1"},
            "timestamp": (day + timedelta(minutes=i)).isoformat(),
        }
        for i in range(3)
    ]
    response = post_events(world.source, batch)
    assert response.status_code == 200, response.content
    rollups.refresh_pending()
    world.expected_parts.add("usage")


def seed_journeys(world: World) -> None:
    from touchpoint.journeys.models import Enrollment, Journey, JourneyVersion, MessagingConsent, OutboxRow

    journey = Journey.objects.create(key="welcome", name="Welcome")
    version = JourneyVersion.objects.create(journey=journey, number=1, definition={"steps": []})
    enrollment = Enrollment.objects.create(
        journey=journey,
        version=version,
        account=world.account,
        contact=world.contact,
        subject_key=f"contact:{world.contact.pk}",
        entry_data={"email": THE_EMAIL, "name": THE_NAME},
    )
    rendered = {"subject": f"Welcome, {THE_NAME}", "html": f"<p>Hi {THE_NAME}, call {THE_PHONE}</p>"}
    OutboxRow.objects.create(
        enrollment=enrollment,
        step_id="email",
        kind="email",
        recipient_key=f"contact:{world.contact.pk}",
        account=world.account,
        contact=world.contact,
        status="sent",
        payload=rendered,
        to_address=THE_EMAIL,
        sent_at=timezone.now(),
    )
    OutboxRow.objects.create(
        enrollment=enrollment,
        step_id="nudge",
        kind="in_app",
        recipient_key=f"contact:{world.contact.pk}",
        account=world.account,
        contact=world.contact,
        status="pending",
        payload={"title": f"{THE_NAME}, look"},
    )
    MessagingConsent.objects.create(contact=world.contact, status="unsubscribed", source="unsubscribe link")
    world.expected_parts.add("journeys")


def seed_surveys(world: World) -> None:
    from touchpoint.surveys.models import Decline
    from touchpoint.surveys.services import create_survey, record_answer

    survey = create_survey(name="NPS", actor=world.admin)
    record_answer(
        survey=survey,
        account=world.account,
        contact=world.contact,
        score=9,
        comment=f"Love it. {THE_NAME}, {THE_PHONE}",
        actor=world.admin,
    )
    record_answer(
        survey=survey, account=world.account, contact=world.other_contact, score=3, actor=world.admin
    )
    Decline.objects.create(survey=survey, account=world.account, contact=world.contact)
    world.expected_parts.add("surveys")


def seed_support(world: World) -> None:
    from touchpoint.support.services import TicketData, create_ticket

    create_ticket(
        data=TicketData(
            subject=f"{THE_NAME} cannot sign in",
            opened_at=timezone.now() - timedelta(hours=3),
            requester_name=THE_NAME,
            requester_email=THE_EMAIL,
        ),
        account=world.account,
        actor=world.admin,
    )
    world.expected_parts.add("support")


def seed_feature_requests(world: World) -> None:
    from touchpoint.feature_requests.services import ask, create_request

    request = create_request(title="Dark mode", actor=world.admin)
    ask(
        request=request,
        account=world.account,
        actor=world.admin,
        contact=world.contact,
        verbatim=f"{THE_NAME} says: my eyes! Write to {THE_EMAIL}",
    )
    world.expected_parts.add("feature_requests")


def seed_advocacy(world: World) -> None:
    from touchpoint.advocacy import services

    advocate = services.add_advocate(contact=world.contact, actor=world.admin, notes=f"{THE_NAME} loves us")
    services.record_activity(
        advocate=advocate, kind="reference_call", actor=world.admin, note=f"Call {THE_PHONE}"
    )
    services.give_reward(advocate=advocate, kind="gift", actor=world.admin, value=50, note=f"For {THE_NAME}")
    services.mark_candidate(contact=world.other_contact, actor=world.admin)
    world.expected_parts.add("advocacy")


def seed_tasks(world: World) -> None:
    from touchpoint.tasks.services import create_task

    create_task(
        title=f"Call {THE_NAME} back",
        due_on=date.today() + timedelta(days=2),
        actor=world.admin,
        account=world.account,
        owner=world.admin,
        notes=f"Number: {THE_PHONE}",
    )
    world.expected_parts.add("tasks")


def seed_plans(world: World) -> None:
    from touchpoint.plans import services
    from touchpoint.plans.models import PlanStakeholder

    plan = services.create_plan(account=world.account, actor=world.admin, title="Plan for 2027")
    services.update_plan(
        plan=plan, title="Plan for 2027", summary=f"Agreed with {THE_NAME}", actor=world.admin
    )
    services.agree_plan(plan=plan, agreed_by=world.contact, agreed_on=date.today(), actor=world.admin)
    services.add_objective(plan=plan, text=f"{THE_NAME} gets the board to adopt reports", actor=world.admin)
    PlanStakeholder.objects.create(plan=plan, contact=world.contact, role="executive_sponsor")
    world.expected_parts.add("plans")


def seed_success(world: World) -> None:
    from tests.factories import FrameworkFactory
    from touchpoint.success.models import MilestoneDefinition, MilestoneReached

    framework = FrameworkFactory()
    milestone = MilestoneDefinition.objects.create(
        framework=framework, key="value", name="First value", kind="outcome"
    )
    MilestoneReached.objects.create(
        account=world.account,
        milestone=milestone,
        reached_on=date.today(),
        source="manual",
        evidence=f"{THE_NAME} confirmed on a call",
        confirmed_by_contact=world.contact,
        confirmed_by_name=THE_NAME,
        recorded_by=world.admin,
    )
    world.expected_parts.add("success")


def seed_playbooks(world: World) -> None:
    from touchpoint.playbooks.models import Playbook, PlaybookRun, PlaybookRunStep

    playbook = Playbook.objects.create(name="Champion left")
    run = PlaybookRun.objects.create(
        playbook=playbook,
        account=world.account,
        occurrence_key=f"champion:{THE_EMAIL}",
        anchor_date=date.today(),
    )
    PlaybookRunStep.objects.create(run=run, position=1, title=f"Find a new champion to replace {THE_NAME}")
    world.expected_parts.add("playbooks")


def seed_home(world: World) -> None:
    from touchpoint.home.models import Alert

    Alert.objects.create(
        recipient=world.admin,
        account=world.account,
        kind="survey.answered",
        title=f"{THE_NAME} answered 9",
        data={"contact": THE_NAME},
    )
    world.expected_parts.add("home")


def seed_revenue(world: World) -> None:
    from touchpoint.revenue.services import create_subscription

    create_subscription(
        account=world.account,
        product="Analytics",
        plan="Pro",
        mrr=Decimal("1200"),
        currency="USD",
        started_on=date.today() - timedelta(days=30),
        actor=world.admin,
        confirm=True,
    )


SEEDERS = [
    seed_accounts,
    seed_usage,
    seed_revenue,
    seed_journeys,
    seed_surveys,
    seed_support,
    seed_feature_requests,
    seed_advocacy,
    seed_tasks,
    seed_plans,
    seed_success,
    seed_playbooks,
    seed_home,
]


def seed(world: World) -> World:
    for seeder in SEEDERS:
        seeder(world)
    return world


# --- The scan ----------------------------------------------------------------------------------------

_TEXT_TYPES = (models.CharField, models.TextField, models.JSONField, models.GenericIPAddressField)


def text_columns() -> list[tuple[str, str]]:
    """(table, column) of every text or JSON column of every installed model (through tables too)."""
    seen = set()
    columns = []
    for model in apps.get_models(include_auto_created=True):
        if model._meta.proxy or not model._meta.managed:
            continue
        for f in model._meta.concrete_fields:
            if isinstance(f, _TEXT_TYPES) and (model._meta.db_table, f.column) not in seen:
                seen.add((model._meta.db_table, f.column))
                columns.append((model._meta.db_table, f.column))
    return columns


def scan(needles=NEEDLES) -> list[str]:
    """Every (table.column: needle) where any row's text holds a needle, by raw SQL, case-insensitive."""
    hits = []
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table, column in text_columns():
            for needle in needles:
                cursor.execute(
                    f"SELECT COUNT(*) FROM {quote(table)} WHERE LOWER(CAST({quote(column)} AS TEXT)) LIKE %s",
                    [f"%{needle.lower()}%"],
                )
                if cursor.fetchone()[0]:
                    hits.append(f"{table}.{column}: {needle}")
    return hits
