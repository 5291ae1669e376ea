"""Demo step "timeline": the meetings, calls, emails and notes of every account's life so far.

Three kinds of touch, as a CS team works:

- lifecycle: a kickoff, setup and training in the first weeks (a welcome email for low touch);
- periodic: monthly check-ins and quarterly business reviews for high touch, fewer for hybrid;
- renewal: planning, a call, a proposal and the outcome before each anniversary;

plus touches as things come up (questions, feedback, escalations, expansion), more often for
high-touch accounts. How well a customer fits (`DemoAccount.fit`) tilts the story: poor fits get
escalations and at-risk renewals, good fits expansion talks and case-study requests.

Each touch is written as `log_engagement` writes it: an Engagement row, its contacts, and a
TimelineEntry of the same kind pointing at it, titled with the subject, with the duration and the
contacts' names in `data` when there are any.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.contenttypes.models import ContentType

from touchpoint.accounts.models import ContactRole, Engagement, EngagementKind, EngagementModel, TimelineEntry
from touchpoint.demo.builders import (
    TIMELINE_COLUMNS,
    DemoAccount,
    DemoContact,
    DemoContext,
    step,
    timeline_row,
)
from touchpoint.users.models import User

NOTE, MEETING, CALL, EMAIL = (
    EngagementKind.NOTE,
    EngagementKind.MEETING,
    EngagementKind.CALL,
    EngagementKind.EMAIL,
)
HIGH, HYBRID, LOW = EngagementModel.HIGH_TOUCH, EngagementModel.HYBRID, EngagementModel.LOW_TOUCH

# Who takes part, by role; "users" is one to three people who use the product, "a user" one of them,
# "anyone" one person of any role.
CHAMPION, DECISION_MAKER, KPI_OWNER, BILLING = (
    ContactRole.CHAMPION,
    ContactRole.DECISION_MAKER,
    ContactRole.KPI_OWNER,
    ContactRole.BILLING,
)
USERS, A_USER, ANYONE = "users", "a user", "anyone"

ACCOUNTS_PER_BATCH = 500


@dataclass(frozen=True)
class Script:
    """A kind of touch: its subject, bodies to pick from, how long it takes and who takes part."""

    kind: str
    subject: str
    bodies: tuple[str, ...]
    minutes: tuple[int, ...] = ()  # durations to pick from (meetings and calls)
    attendees: tuple[str, ...] = ()
    weight: float = 1.0  # for touches as things come up: how common
    leaning: str = ""  # "risk" or "happy": more likely for a poor or a good fit


# --- Words the scripts draw on ({name} in a script; a value may hold placeholders itself) --------

WORDS: dict[str, tuple[str, ...]] = {
    "feature": (
        "dashboards",
        "scheduled reports",
        "the API",
        "alerts",
        "single sign-on",
        "the CRM integration",
        "data export",
        "user roles",
        "the mobile app",
        "custom fields",
        "audit logs",
        "workflows",
    ),
    "topic": (
        "the rollout plan",
        "user licences",
        "the data import",
        "reporting needs",
        "the next release",
        "training for new hires",
        "the integration roadmap",
        "access for contractors",
        "the usage report",
    ),
    "detail": (
        "large imports",
        "more than one currency",
        "custom date ranges",
        "read-only users",
        "time zones",
        "bulk edits",
        "exports to Excel",
    ),
    "issue": (
        "slow report exports",
        "a sync error with the CRM",
        "missing data after an import",
        "sign-in problems with single sign-on",
        "wrong totals on a dashboard",
        "notification emails not arriving",
    ),
    "team": ("finance", "marketing", "support", "operations", "sales", "HR", "logistics"),
    "priority": (
        "rolling out to the {team} team",
        "automating the weekly reporting",
        "connecting the CRM",
        "cutting onboarding time for new hires",
        "training the regional offices",
        "more use of {feature}",
    ),
    "objective": (
        "to halve the time spent on reporting",
        "one view of every customer for the sales team",
        "faster onboarding of new staff",
        "to replace three spreadsheets with one tool",
        "a more accurate forecast",
    ),
    "checkin": (
        "setup is stable and the next step is {feature}",
        "{count} people now use it every week",
        "they want help with {topic}",
        "a question on {detail}, answered on the call",
        "nothing blocking; they are preparing the rollout to the {team} team",
    ),
    "call_outcome": (
        "Agreed next steps and a follow-up in two weeks.",
        "Solved on the call.",
        "Sent a short guide afterwards.",
        "Needs an answer from product; I will follow up.",
    ),
    "praise": (
        "it saves the team a day a week",
        "reports that took hours now take minutes",
        "the rollout was the smoothest they have had",
    ),
    "term": ("12", "12", "24"),
}
# Words that depend on how the account is doing: (for a poor fit, for a good fit).
WORDS_BY_FIT: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "trend": (
        ("flat since last quarter", "slightly down", "uneven across teams"),
        ("growing steadily", "up after the training", "strong in every team"),
    ),
    "renewal_view": (
        ("the renewal needs attention", "the sponsor has been hard to reach"),
        ("no concerns so far", "a good moment to talk about expansion"),
    ),
    "renewal_call": (
        (
            "Budget is under review; they asked for a discount and a plan to raise usage.",
            "They question the value for the {team} team; agreed to show results before deciding.",
        ),
        (
            "They plan to renew and are considering more seats for the {team} team.",
            "Renewal confirmed verbally; paperwork to follow from procurement.",
        ),
    ),
}

# --- Lifecycle, periodic and renewal touches -----------------------------------------------------

KICKOFF = Script(
    MEETING,
    "Onboarding kickoff",
    (
        "Kickoff with {decision_maker} and {champion}. Agreed the goals for the first 90 days, the project "
        "plan and who owns what. Next: connect the data sources and invite the admins.",
        "Met the {company} project team to start onboarding. {decision_maker} wants {objective}; we set the "
        "first milestone for week six.",
    ),
    minutes=(60, 45),
    attendees=(DECISION_MAKER, CHAMPION, KPI_OWNER),
)
SETUP = Script(
    MEETING,
    "Technical setup session",
    (
        "Walked {champion}'s team through single sign-on, the data import and setting up {feature}. Two open "
        "questions on user provisioning, answered by email afterwards.",
    ),
    minutes=(45, 60),
    attendees=(CHAMPION, USERS),
)
ADMIN_TRAINING = Script(
    MEETING,
    "Admin training",
    (
        "Trained {count} admins on roles, dashboards and alerts. Shared the recording and the admin checklist.",
    ),
    minutes=(90, 60),
    attendees=(CHAMPION, USERS),
)
SUCCESS_PLAN = Script(
    MEETING,
    "Success plan agreed",
    (
        "Wrote down the success plan with {decision_maker}: three objectives, the KPIs behind them and an "
        "owner for each. Main objective: {objective}.",
    ),
    minutes=(60,),
    attendees=(DECISION_MAKER, CHAMPION, KPI_OWNER),
)
FIRST_VALUE = Script(
    NOTE,
    "First milestone reached",
    (
        "{company} ran its first full cycle in the product. {champion} presented the results to their "
        "leadership.",
    ),
)
ONBOARDING_LATE = Script(
    NOTE,
    "Onboarding behind plan",
    (
        "The data import is two weeks late and only a few people have logged in. Agreed a recovery plan with "
        "{champion}.",
    ),
)
CHECKIN_30 = Script(
    CALL,
    "30-day check-in",
    ("Checked progress with {champion}: setup done, {count} active users, next focus is {feature}.",),
    minutes=(30,),
    attendees=(CHAMPION,),
)
WELCOME = Script(
    EMAIL,
    "Welcome aboard: your first steps",
    (
        "Sent {champion} the getting-started guide, the setup checklist and the times of our weekly office "
        "hours.",
    ),
    attendees=(CHAMPION,),
)
GETTING_STARTED = Script(
    CALL,
    "Getting-started call",
    ("Short call with {champion} to answer setup questions about {feature}.",),
    minutes=(20, 15),
    attendees=(CHAMPION,),
)

QBR = Script(
    MEETING,
    "Quarterly business review",
    (
        "Reviewed adoption, support cases and progress on the success plan with {decision_maker}. Priorities "
        "for next quarter: {priority}.",
        "QBR with {decision_maker} and {champion}: usage is {trend}. Agreed to focus on {priority}.",
    ),
    minutes=(60, 90),
    attendees=(DECISION_MAKER, CHAMPION, KPI_OWNER),
)
MONTHLY_CHECKIN = Script(
    CALL,
    "Monthly check-in",
    ("Checked in with {champion}: {checkin}.",),
    minutes=(30, 20),
    attendees=(CHAMPION,),
)
CHECKIN = Script(
    CALL, "Check-in call", ("Caught up with {champion}: {checkin}.",), minutes=(30,), attendees=(CHAMPION,)
)
BUSINESS_REVIEW = Script(
    MEETING,
    "Business review",
    ("Half-year review with {decision_maker}: usage is {trend}. Next: {priority}.",),
    minutes=(45, 60),
    attendees=(DECISION_MAKER, CHAMPION),
)

RENEWAL_PLANNING = Script(
    NOTE, "Renewal planning", ("Renewal in about three months. Usage is {trend}; {renewal_view}.",)
)
RENEWAL_CALL = Script(
    CALL,
    "Renewal call",
    ("Talked through the renewal with {decision_maker}. {renewal_call}",),
    minutes=(45, 30),
    attendees=(DECISION_MAKER,),
)
RENEWAL_PROPOSAL = Script(
    EMAIL,
    "Renewal proposal sent",
    (
        "Sent {decision_maker} the proposal for the next {term}-month term, with a summary of the past year's "
        "usage; finance in copy.",
    ),
    attendees=(DECISION_MAKER, BILLING),
)
RENEWAL_SIGNED = Script(NOTE, "Renewal signed", ("{company} signed the renewal for another {term} months.",))
RENEWAL_AT_RISK = Script(
    NOTE,
    "Renewal at risk",
    (
        "{decision_maker} has not confirmed the budget. Raised it with the CS leader; offering a review of "
        "goals before the deadline.",
    ),
)
RENEWAL_REMINDER = Script(
    EMAIL,
    "Renewal reminder",
    ("Reminded {champion} that the plan renews next month, with a link to change seats or billing details.",),
    attendees=(CHAMPION,),
)

# --- Touches as things come up -------------------------------------------------------------------
# `weight` is how common a touch is; "risk" touches grow with a poor fit, "happy" ones with a good fit.

AD_HOC: tuple[Script, ...] = (
    Script(
        EMAIL,
        "Follow-up: {topic}",
        ("Sent {contact} the notes and links from our conversation about {topic}.",),
        attendees=(ANYONE,),
        weight=3,
    ),
    Script(
        EMAIL,
        "Question about {feature}",
        (
            "{contact} asked how {feature} handles {detail}. Replied with a short how-to and a link to the docs.",
        ),
        attendees=(A_USER,),
        weight=3,
    ),
    Script(
        EMAIL,
        "Invitation: webinar on {feature}",
        ("Invited {contact} and the team to next week's customer webinar on {feature}.",),
        attendees=(ANYONE,),
        weight=1.5,
    ),
    Script(
        EMAIL,
        "Release highlights",
        (
            "Sent {contact} this month's release highlights, including the change to {feature} they asked about.",
        ),
        attendees=(CHAMPION,),
        weight=1,
    ),
    Script(
        CALL,
        "Quick call about {topic}",
        ("Call with {contact} about {topic}. {call_outcome}",),
        minutes=(15, 20, 30),
        attendees=(ANYONE,),
        weight=2.5,
    ),
    Script(
        MEETING,
        "Workshop: getting more from {feature}",
        ("Hands-on workshop on {feature} for {count} people from the {team} team.",),
        minutes=(60, 90),
        attendees=(CHAMPION, USERS),
        weight=1,
    ),
    Script(
        MEETING,
        "Training for new users",
        ("Trained the newest users at {company}; shared the recording and the quick-start guide.",),
        minutes=(45, 60),
        attendees=(USERS,),
        weight=0.8,
    ),
    Script(
        NOTE,
        "Product feedback",
        ("{contact} would like {feature} to support {detail}. Logged it as a feature request.",),
        attendees=(ANYONE,),
        weight=1.5,
    ),
    Script(
        NOTE,
        "New stakeholder",
        ("{contact} now leads the {team} team and wants to be kept in the loop.",),
        attendees=(ANYONE,),
        weight=0.6,
    ),
    Script(
        NOTE,
        "Usage dropping",
        ("Weekly active users fell for three weeks in a row. Planning a check-in with {champion}.",),
        weight=2,
        leaning="risk",
    ),
    Script(
        CALL,
        "Escalation follow-up",
        (
            "Followed up on the support case about {issue}. Engineering has a fix scheduled; {contact} is "
            "waiting for it.",
        ),
        minutes=(30, 20),
        attendees=(ANYONE,),
        weight=2,
        leaning="risk",
    ),
    Script(
        MEETING,
        "Escalation review",
        (
            "Reviewed the open issues with {decision_maker}, above all {issue}. Agreed on weekly updates until "
            "it is fixed.",
        ),
        minutes=(45,),
        attendees=(DECISION_MAKER, CHAMPION),
        weight=1,
        leaning="risk",
    ),
    Script(
        NOTE,
        "Champion changing roles",
        ("{champion} is moving to a new role. Asked for an introduction to whoever takes over.",),
        weight=0.5,
        leaning="risk",
    ),
    Script(
        NOTE,
        "Expansion opportunity",
        ("{decision_maker} said the {team} team wants access too. Passed the lead to sales.",),
        weight=1.5,
        leaning="happy",
    ),
    Script(
        EMAIL,
        "Case study request",
        ("Asked {champion} whether {company} would share its results in a short case study.",),
        attendees=(CHAMPION,),
        weight=0.7,
        leaning="happy",
    ),
    Script(
        NOTE,
        "Happy customer",
        ("{contact} told their leadership that {praise}.",),
        attendees=(ANYONE,),
        weight=1,
        leaning="happy",
    ),
)
# Ad-hoc touches per 30 days, by engagement model.
AD_HOC_RATE: dict[str, float] = {HIGH: 3.5, HYBRID: 1.5, LOW: 0.5}


def _ad_hoc_weights(fit: float) -> list[float]:
    risk = max(0.0, 0.5 - fit) * 2  # 0 for a fair fit, up to 1 for the poorest
    happy = max(0.0, fit - 0.6) * 2.5  # 0 for a fair fit, up to 1 for the best
    return [script.weight * {"": 1.0, "risk": risk, "happy": happy}[script.leaning] for script in AD_HOC]


class _Words(dict):
    """Placeholder values, each drawn the first time a script asks for it."""

    def __init__(self, rng: random.Random, fit: float, **known: str) -> None:
        super().__init__(known)
        self.rng, self.good = rng, fit >= 0.4

    def __missing__(self, key: str) -> str:
        if key == "count":
            value = str(self.rng.randint(3, 25))
        elif key in WORDS_BY_FIT:
            value = self.rng.choice(WORDS_BY_FIT[key][self.good])
        else:
            value = self.rng.choice(WORDS[key])
        self[key] = value
        return value


def _fill(template: str, words: _Words) -> str:
    text = template.format_map(words)
    return text.format_map(words) if "{" in text else text


@dataclass
class _Touch:
    occurred_at: datetime
    script: Script


class _AccountStory:
    """Plans the touches of one account, from its signing to the anchor date."""

    def __init__(self, ctx: DemoContext, demo_account: DemoAccount) -> None:
        self.ctx, self.rng, self.demo_account = ctx, ctx.rng, demo_account
        self.account = demo_account.account
        self.signed: datetime = self.account.created_at
        self.signed_day: date = self.signed.astimezone(ctx.tz).date()
        self.touches: list[_Touch] = []

    def add(self, day_offset: int, script: Script) -> None:
        day = self._working_day(self.signed_day + timedelta(days=day_offset))
        if day is None:
            return
        rng = self.rng
        if script.kind == MEETING:
            moment = self.ctx.at(day, rng.randint(9, 16), rng.choice((0, 30)))
        elif script.kind == CALL:
            moment = self.ctx.at(day, rng.randint(9, 17), rng.choice((0, 15, 30, 45)))
        else:
            moment = self.ctx.at(day, rng.randint(8, 18), rng.randrange(60))
        if moment <= self.signed:
            moment = self.signed + timedelta(minutes=rng.randint(20, 90))
            if moment >= self.ctx.end:
                return
        self.touches.append(_Touch(moment, script))

    def _working_day(self, day: date) -> date | None:
        """The day itself, or for a weekend a weekday of that week or the next inside the window (any
        of them alike, so no weekday gets more than its share); None when it lies in the future."""
        if day.weekday() >= 5:
            monday = day - timedelta(days=day.weekday())
            weekdays = [monday + timedelta(days=offset) for offset in (*range(5), *range(7, 12))]
            inside = [d for d in weekdays if self.signed_day <= d < self.ctx.anchor]
            if inside:
                day = self.rng.choice(inside[:5])
        return day if day < self.ctx.anchor else None

    def every(self, first: int, interval: tuple[int, int], script: Script) -> None:
        offset = first
        while self.signed_day + timedelta(days=offset) < self.ctx.anchor:
            self.add(offset, script)
            offset += self.rng.randint(*interval)

    def plan(self) -> list[_Touch]:
        rng, model, fit = self.rng, self.account.engagement_model, self.demo_account.fit
        if model == HIGH:
            self.add(rng.randint(1, 4), KICKOFF)
            self.add(rng.randint(6, 12), SETUP)
            self.add(rng.randint(12, 22), ADMIN_TRAINING)
            self.add(rng.randint(18, 30), SUCCESS_PLAN)
            self.add(rng.randint(35, 70), FIRST_VALUE if fit >= 0.35 else ONBOARDING_LATE)
            self.every(rng.randint(85, 95), (85, 95), QBR)
            self.every(rng.randint(40, 50), (25, 35), MONTHLY_CHECKIN)
        elif model == HYBRID:
            self.add(rng.randint(2, 6), KICKOFF)
            self.add(rng.randint(10, 20), ADMIN_TRAINING)
            self.add(rng.randint(28, 35), CHECKIN_30)
            self.every(rng.randint(60, 75), (55, 70), CHECKIN)
            self.every(rng.randint(170, 190), (170, 190), BUSINESS_REVIEW)
        else:
            self.add(rng.randint(0, 1), WELCOME)
            if rng.random() < 0.3:
                self.add(rng.randint(5, 15), GETTING_STARTED)
        self._renewals(model, fit)
        self._ad_hoc(model, fit)
        self.touches.sort(key=lambda touch: touch.occurred_at)
        return self.touches

    def _renewals(self, model: str, fit: float) -> None:
        anniversary = 365
        while self.signed_day + timedelta(days=anniversary - 100) < self.ctx.anchor:
            if model == LOW:
                self.add(anniversary - self.rng.randint(25, 30), RENEWAL_REMINDER)
            else:
                self.add(anniversary - self.rng.randint(85, 100), RENEWAL_PLANNING)
                self.add(anniversary - self.rng.randint(55, 75), RENEWAL_CALL)
                self.add(anniversary - self.rng.randint(40, 50), RENEWAL_PROPOSAL)
                outcome = RENEWAL_SIGNED if fit >= 0.3 else RENEWAL_AT_RISK
                self.add(anniversary - self.rng.randint(3, 10), outcome)
            anniversary += 365

    def _ad_hoc(self, model: str, fit: float) -> None:
        rng = self.rng
        weights = _ad_hoc_weights(fit)
        per_day = AD_HOC_RATE[model] / 30
        offset = rng.expovariate(per_day)
        while self.signed_day + timedelta(days=int(offset)) < self.ctx.anchor:
            self.add(int(offset), rng.choices(AD_HOC, weights=weights)[0])
            offset += rng.expovariate(per_day)


def _attendees(rng: random.Random, wanted: tuple[str, ...], present: list[DemoContact]) -> list[DemoContact]:
    """The people a touch is with, among those already at the account; never the same person twice."""
    chosen: list[DemoContact] = []
    for who in wanted:
        if who in (USERS, A_USER):
            candidates = [c for c in present if ContactRole.USER in c.roles and c not in chosen]
            wanted_count = rng.randint(1, 3) if who == USERS else 1
            chosen += rng.sample(candidates, k=min(len(candidates), wanted_count))
        elif who == ANYONE:
            candidates = [c for c in present if c not in chosen]
            if candidates:
                chosen.append(rng.choice(candidates))
        else:
            candidates = [c for c in present if who in c.roles and c not in chosen]
            if candidates:
                chosen.append(rng.choice(candidates))
    return chosen


def _first_with(role: str, present: list[DemoContact]) -> DemoContact | None:
    return next((c for c in present if role in c.roles), None)


ENGAGEMENT_COLUMNS = (
    "account_id",
    "kind",
    "subject",
    "body",
    "occurred_at",
    "duration_minutes",
    "author_id",
    "created_at",
)


@step("timeline", after=("accounts",))
def timeline(ctx: DemoContext) -> None:
    engagement_type = ContentType.objects.get_for_model(Engagement).pk
    pool = ctx.users.get("pool")
    for start in range(0, len(ctx.accounts), ACCOUNTS_PER_BATCH):
        engagements: list[tuple] = []
        attendees: list[list[DemoContact]] = []
        for demo_account in ctx.accounts[start : start + ACCOUNTS_PER_BATCH]:
            _write_story(ctx, demo_account, pool, engagements, attendees)
        ids = ctx.insert_rows(Engagement, ENGAGEMENT_COLUMNS, engagements, return_ids=True)
        ctx.insert_rows(
            Engagement.contacts.through,
            ("engagement_id", "contact_id"),
            [
                (engagement_id, person.contact.pk)
                for engagement_id, people in zip(ids, attendees, strict=True)
                for person in people
            ],
            count_as="accounts.engagement_contacts",
        )
        # As log_engagement records it: same kind, time and author; the subject as title.
        ctx.insert_rows(
            TimelineEntry,
            TIMELINE_COLUMNS,
            [
                timeline_row(
                    account_id=account_id,
                    kind=kind,
                    occurred_at=occurred_at,
                    title=subject,
                    body=body,
                    actor_id=author_id,
                    subject_type_id=engagement_type,
                    subject_id=engagement_id,
                    data={
                        "duration_minutes": duration,
                        "contacts": [person.contact.name for person in people],
                    }
                    if (duration or people)
                    else {},
                    recorded_at=logged_at,
                )
                for engagement_id, people, (
                    account_id,
                    kind,
                    subject,
                    body,
                    occurred_at,
                    duration,
                    author_id,
                    logged_at,
                ) in zip(ids, attendees, engagements, strict=True)
            ],
        )


def _write_story(
    ctx: DemoContext,
    demo_account: DemoAccount,
    pool: User | None,
    engagements: list[tuple],
    attendees: list[list[DemoContact]],
) -> None:
    rng = ctx.rng
    account = demo_account.account
    author_id = account.owner_id or (pool.pk if pool else None)
    joined = [c.contact.created_at for c in demo_account.contacts]  # sorted by the accounts step
    for touch in _AccountStory(ctx, demo_account).plan():
        present = demo_account.contacts[: bisect.bisect_right(joined, touch.occurred_at)]
        people = _attendees(rng, touch.script.attendees, present)
        champion = _first_with(CHAMPION, present)
        decision_maker = _first_with(DECISION_MAKER, present) or champion
        champion_name = champion.contact.name if champion else account.name
        words = _Words(
            rng,
            demo_account.fit,
            company=account.name,
            champion=champion_name,
            decision_maker=decision_maker.contact.name if decision_maker else account.name,
            contact=people[0].contact.name if people else champion_name,
        )
        script = touch.script
        duration = rng.choice(script.minutes) if script.minutes else None
        engagements.append(
            (
                account.pk,
                script.kind,
                _fill(script.subject, words)[:200],
                _fill(rng.choice(script.bodies), words),
                touch.occurred_at,
                duration,
                author_id,
                touch.occurred_at
                + timedelta(minutes=(duration or 0) + 10),  # logged just after the touch ended
            )
        )
        attendees.append(people)
