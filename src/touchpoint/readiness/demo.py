"""Demo step "readiness": two readiness maps, the product's and an upcoming launch's.

Both start from the shipped template in English, as a product manager would make them. A lead is named
for every function (people of the company outside the CS team, who sign in to read and to answer for
their touchpoints), and most touchpoints have an owner and a due date. The product map has been
worked on for months: most of it is ready, with a few risks and gaps left. The launch map is six weeks
from its date and half done: many touchpoints are at risk, some are gaps, a few are gaps past their
due date, and the hardware ones do not apply to a cloud launch. Answers, comments, links to the
journeys, playbooks and milestones that serve a touchpoint, and tasks for the owners of the worst
gaps go through the services, as people would make them. Uptime is recorded for twelve months.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import Max
from django.utils.translation import gettext_lazy as _

from touchpoint.demo.builders import (
    DEMO_EMAIL_DOMAIN,
    DEMO_PASSWORD,
    DemoContext,
    DemoLogin,
    register_data,
    step,
)
from touchpoint.events.models import DomainEvent
from touchpoint.readiness import library, services
from touchpoint.readiness.links import link_kinds
from touchpoint.readiness.models import (
    Answer,
    MapKind,
    ReadinessMap,
    Status,
    Touchpoint,
    TouchpointComment,
    TouchpointLink,
    UptimeMonth,
)
from touchpoint.tasks.models import Task
from touchpoint.users.models import AuditLogEntry, User
from touchpoint.users.roles import Role
from touchpoint.users.services import create_user

PRODUCT = "Touchpoint Cloud"

# The company's function leads: (function key, e-mail local part, full name).
LEADS: tuple[tuple[str, str, str], ...] = (
    ("marketing", "olivia.hart", "Olivia Hart"),
    ("sales-enablement", "marco.rossi", "Marco Rossi"),
    ("project-management", "yuki.nakamura", "中村 由紀"),
    ("engineering-qa", "ivan.petrov", "Иван Петров"),
    ("legal", "sarah.klein", "Sarah Klein"),
    ("sales", "james.owusu", "James Owusu"),
    ("systems-engineering", "lena.berg", "Lena Berg"),
    ("manufacturing", "tomas.novak", "Tomas Novak"),
    ("finance-operations", "priya.shah", "Priya Shah"),
    ("network-cloud-operations", "niran.wong", "นิรันดร์ วงศ์ใหญ่"),
    ("support", "elena.sokolova", "Елена Соколова"),
)
PRODUCT_MANAGER = ("rachel.adams", "Rachel Adams")

# Notes an answer that is not a plain "yes" carries.
NOTES = {
    Answer.PARTLY: (
        "Done for English; the other languages are with the translators.",
        "Drafted, waiting for review.",
        "Covers the main plans only.",
        "Agreed in principle, not yet written down.",
    ),
    Answer.NO: (
        "Nobody owns this yet.",
        "Blocked until the vendor contract is signed.",
        "Not started: the team is on the previous release.",
    ),
}
COMMENTS = (
    "Can we have this before the sales kick-off?",
    "I have asked legal for the final wording.",
    "Our draft is in the shared folder; comments welcome.",
    "This slipped a week: the test environment was down.",
    "Ready on our side once finance confirms the price list.",
)
# Touchpoints and the words of what serves them: a link goes to a journey, playbook or milestone whose
# label holds one of the words (each app offers its own; readiness does not name them).
SERVED_BY = {
    "onboarding": ("onboard", "welcome", "kick"),
    "renewal-notice": ("renew",),
    "health-reviews": ("risk", "health", "review"),
    "value-realisation": ("value", "first", "report"),
    "references": ("advoca", "reference", "nps"),
    "expansion": ("expan", "upsell", "seat"),
}


class _Clock:
    """The services stamp `timezone.now()`; the demo's work happened before its day. After each piece of
    work, the rows it wrote (found by id, past the last ones seen) get the moment it happened."""

    STAMPED: dict[type[models.Model], tuple[str, ...]] = {
        AuditLogEntry: ("created_at",),
        DomainEvent: ("occurred_at", "created_at"),
        Task: ("created_at",),
        Touchpoint: ("created_at", "updated_at"),
        TouchpointComment: ("created_at",),
        TouchpointLink: ("created_at",),
        ReadinessMap: ("created_at", "updated_at"),
    }

    def __init__(self) -> None:
        self.seen = self._last()

    def _last(self) -> dict[type[models.Model], int]:
        return {
            model: model._default_manager.aggregate(last=Max("pk"))["last"] or 0 for model in self.STAMPED
        }

    def stamp(self, moment: datetime, **also: Any) -> None:
        """Date what was written since the last stamp; `also` names touched rows by model, e.g.
        `also={"answers": queryset}` dates their confirmations too."""
        for model, fields in self.STAMPED.items():
            model._default_manager.filter(pk__gt=self.seen[model]).update(**dict.fromkeys(fields, moment))
        for queryset in also.values():
            queryset.update(confirmed_at=moment)
        self.seen = self._last()


def _people(ctx: DemoContext) -> tuple[User, dict[str, User]]:
    """The product manager who owns the maps and the functions' leads: viewers elsewhere, who sign in
    with the demo password to answer for their touchpoints."""

    def person(local_part: str, full_name: str, label: Any) -> User:
        user, _password = create_user(
            email=f"{local_part}@{DEMO_EMAIL_DOMAIN}",
            role=Role.VIEWER,
            password=DEMO_PASSWORD,
            full_name=full_name,
            check_password_strength=False,
        )
        ctx.counts["users.user"] += 1
        ctx.logins.append(
            DemoLogin(user=user, role=Role.VIEWER.value, password=DEMO_PASSWORD, role_label=label)
        )
        return user

    manager = person(*PRODUCT_MANAGER, _("Product manager (owns the readiness maps)"))
    leads = {
        function: person(local_part, name, _("Function lead (answers on the readiness maps)"))
        for function, local_part, name in LEADS
    }
    # Customer success is led by the CS team's own leader.
    if "leader" in ctx.users:
        leads["customer-success"] = ctx.users["leader"]
    return manager, leads


def _target(kind_key: str, words: tuple[str, ...]) -> str | None:
    kind = link_kinds.get(kind_key)
    if kind is None:
        return None
    for target, label in kind.choices():
        if any(word in label.lower() for word in words):
            return target
    return None


def _answer_all(
    ctx: DemoContext,
    touchpoint: Touchpoint,
    outcome: str,
    *,
    who: User | None,
) -> None:
    """Answer the touchpoint's checklist so its status comes out as `outcome` (ready, at risk, gap)."""
    items = list(touchpoint.checklist.order_by("position"))
    if not items:
        return
    if outcome == Status.READY:
        answers = [Answer.YES] * len(items)
    elif outcome == Status.AT_RISK:
        answers = [ctx.rng.choice((Answer.YES, Answer.YES, Answer.PARTLY)) for _item in items]
        answers[ctx.rng.randrange(len(items))] = Answer.PARTLY
    else:  # a gap: one "no", the rest part answered or open
        answers = [ctx.rng.choice((Answer.YES, Answer.PARTLY, Answer.OPEN)) for _item in items]
        answers[ctx.rng.randrange(len(items))] = Answer.NO
    for item, answer in zip(items, answers, strict=True):
        if answer == Answer.OPEN:
            continue
        evidence = ""
        if answer == Answer.YES and ctx.rng.random() < 0.3:
            evidence = f"https://wiki.{DEMO_EMAIL_DOMAIN}/readiness/{touchpoint.key}"
        note = ctx.rng.choice(NOTES[answer]) if answer in NOTES else ""
        services.answer_question(item=item, answer=answer, actor=who, note=note, evidence_url=evidence)


def _build_map(
    ctx: DemoContext,
    *,
    name: str,
    kind: str,
    launch_on: date | None,
    description: str,
    manager: User,
    leads: dict[str, User],
    mix: dict[str, float],
    due_from: int,
    due_to: int,
    started_days_ago: int,
    clock: _Clock,
) -> ReadinessMap:
    readiness_map = services.create_map(
        name=name,
        kind=kind,
        product=PRODUCT,
        description=description,
        launch_on=launch_on,
        owner=manager,
        actor=manager,
        start_from=library.template("standard", "en"),
    )
    for function in readiness_map.functions.all():
        services.rename_row(
            row=function, name=function.name, lead=leads.get(function.key), set_lead=True, actor=manager
        )
    clock.stamp(ctx.at(ctx.anchor - timedelta(days=started_days_ago), 9, 30))
    outcomes, weights = list(mix), list(mix.values())
    touchpoints = list(readiness_map.touchpoints.select_related("function", "stage").order_by("position"))
    for touchpoint in touchpoints:
        lead = leads.get(touchpoint.function.key)
        # Some touchpoints have an owner of their own; the others are answered by the function's lead.
        owner = manager if ctx.rng.random() < 0.15 else None
        due_on = ctx.anchor + timedelta(days=ctx.rng.randint(due_from, due_to))
        services.update_touchpoint(touchpoint=touchpoint, owner=owner, due_on=due_on, actor=manager)
        if kind != MapKind.PRODUCT and touchpoint.function.key == "manufacturing":
            services.set_status_by_hand(
                touchpoint=touchpoint,
                status=Status.NOT_APPLICABLE,
                reason="A cloud launch: no hardware ships with it.",
                actor=manager,
            )
            clock.stamp(_worked_on(ctx, started_days_ago))
            continue
        outcome = ctx.rng.choices(outcomes, weights)[0]
        _answer_all(ctx, touchpoint, outcome, who=owner or lead or manager)
        if ctx.rng.random() < 0.12:
            services.add_comment(touchpoint=touchpoint, body=ctx.rng.choice(COMMENTS), actor=lead or manager)
        for kind_key in ("journey", "playbook", "milestone"):
            target = _target(kind_key, SERVED_BY.get(touchpoint.key, ()))
            if target is not None:
                services.link(touchpoint=touchpoint, kind=kind_key, target=target, actor=manager)
        clock.stamp(
            _worked_on(ctx, started_days_ago), answers=touchpoint.checklist.exclude(confirmed_at=None)
        )
    # The services judge due dates by the real day; the demo company's day may be another (--today).
    for touchpoint in readiness_map.touchpoints.filter(status_by_hand=False):
        services.refresh_status(touchpoint, today=ctx.anchor)
    return readiness_map


def _worked_on(ctx: DemoContext, started_days_ago: int) -> datetime:
    """A working hour on one of the days since the map was started (not today: the demo's day is not over)."""
    day = ctx.anchor - timedelta(days=ctx.rng.randint(1, max(1, started_days_ago - 1)))
    return ctx.at(day, ctx.rng.randint(9, 17), ctx.rng.randrange(60))


def _tasks_for_gaps(
    ctx: DemoContext, readiness_map: ReadinessMap, manager: User, count: int, clock: _Clock
) -> None:
    gaps = (
        readiness_map.touchpoints.filter(status=Status.GAP)
        .select_related("function__lead", "owner", "map")
        .order_by("due_on", "position")
    )
    made = 0
    for touchpoint in gaps:
        if made == count:
            break
        if touchpoint.answerable_by is None:
            continue
        services.make_task(
            touchpoint=touchpoint, due_on=ctx.anchor + timedelta(days=ctx.rng.randint(2, 10)), actor=manager
        )
        clock.stamp(ctx.at(ctx.anchor - timedelta(days=ctx.rng.randint(1, 3)), 16, ctx.rng.randrange(60)))
        made += 1


def _uptime(ctx: DemoContext, clock: _Clock) -> None:
    month = ctx.anchor.replace(day=1)
    for _month in range(12):
        month = (month - timedelta(days=1)).replace(day=1)
        # Mostly three nines and more; one bad month with a long outage.
        percent = Decimal("99.9") + Decimal(ctx.rng.randint(40, 99)) / 1000
        if ctx.rng.random() < 0.1:
            percent = Decimal("99.5") + Decimal(ctx.rng.randint(0, 300)) / 1000
        row, _created = services.record_uptime(
            product=PRODUCT, month=month, uptime_percent=percent, actor=None, source="monitoring"
        )
        # Posted by the monitoring on the first morning of the next month.
        posted = ctx.at((month + timedelta(days=32)).replace(day=1), 6, 5)
        UptimeMonth.objects.filter(pk=row.pk).update(recorded_at=posted)
        clock.stamp(posted)


def _after() -> tuple[str, ...]:
    from touchpoint.demo import builders

    # After the steps whose journeys, playbooks and milestones serve touchpoints, and the tasks step.
    wanted = ("people", "tasks", "journeys", "playbooks", "success", "renewals")
    return tuple(name for name in wanted if name in builders._STEPS)


@step("readiness", after=_after())
def readiness(ctx: DemoContext) -> None:
    manager, leads = _people(ctx)
    clock = _Clock()
    product = _build_map(
        ctx,
        name=f"{PRODUCT}: customer journey",
        kind=MapKind.PRODUCT,
        launch_on=None,
        description="Where the product meets its customers today, and who answers for each place.",
        manager=manager,
        leads=leads,
        mix={Status.READY: 0.72, Status.AT_RISK: 0.16, Status.GAP: 0.12},
        due_from=-20,
        due_to=60,
        started_days_ago=150,
        clock=clock,
    )
    launch_on = ctx.anchor + timedelta(days=42)
    launch = _build_map(
        ctx,
        name="Japan region launch",
        kind=MapKind.MARKET,
        launch_on=launch_on,
        description="Selling and running the product from the Tokyo region, with Japanese contracts and "
        "support hours.",
        manager=manager,
        leads=leads,
        mix={Status.READY: 0.38, Status.AT_RISK: 0.37, Status.GAP: 0.25},
        due_from=-10,
        due_to=40,
        started_days_ago=35,
        clock=clock,
    )
    _tasks_for_gaps(ctx, launch, manager, count=4, clock=clock)
    _tasks_for_gaps(ctx, product, manager, count=1, clock=clock)
    _uptime(ctx, clock)
    # The statuses refreshed last, by the demo's day, carry the moment they were stored: yesterday's.
    evening = ctx.at(ctx.anchor - timedelta(days=1), 18)
    Touchpoint.objects.filter(updated_at__gt=evening).update(updated_at=evening)
    ReadinessMap.objects.filter(updated_at__gt=evening).update(updated_at=evening)
    ctx.counts["readiness.readinessmap"] += 2
    ctx.counts["readiness.touchpoint"] += product.touchpoints.count() + launch.touchpoints.count()


def _delete() -> None:
    ReadinessMap.objects.all().delete()
    UptimeMonth.objects.all().delete()


register_data(
    "readiness maps",
    label=_("readiness maps"),
    count=lambda: ReadinessMap.objects.count() + UptimeMonth.objects.count(),
    delete=_delete,
    order=20,
)
