"""Demo step "advocacy": advocates at healthy accounts and what they did over the demo's history.

Candidates come from the surveys step's NPS answers when it ran (its `survey.answered` events,
applied as the consumer applies them). Without them, accounts whose latest health grade is green (the
health step's scores) get promoters here: contacts who are advocacy candidates, as an NPS promoter
answer would have made them, with no source answer; a few more are marked by hand, and a few at
accounts that are not green, and a few who later answered as passives, show what the pool leaves out. A third of the healthy accounts have advocates: each was asked over the months
(references, reviews, case studies…) with the asks in every status (asked, accepted, done,
declined), a done ask being the advocate's activity; some did something unasked; most got a reward.
No contact is asked more than the default limit (two) in a quarter. Every ask, activity and reward
has the timeline entry the services write.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import Max
from django.utils.translation import gettext_lazy as _

from touchpoint.accounts.models import Contact, TimelineEntry
from touchpoint.advocacy import consumer, services
from touchpoint.advocacy.models import (
    Activity,
    ActivityKind,
    Advocate,
    Ask,
    AskStatus,
    Candidate,
    CandidateSource,
    Reward,
    RewardKind,
)
from touchpoint.demo.builders import TIMELINE_COLUMNS, DemoContext, register_data, step, timeline_row
from touchpoint.events.models import ConsumerPosition, DomainEvent
from touchpoint.events.registry import is_registered
from touchpoint.health.models import HealthScore

KIND_WEIGHTS = (
    (ActivityKind.REFERENCE_CALL, 30),
    (ActivityKind.REVIEW, 25),
    (ActivityKind.TESTIMONIAL, 12),
    (ActivityKind.CASE_STUDY, 10),
    (ActivityKind.REFERRAL, 10),
    (ActivityKind.SPEAKING, 6),
    (ActivityKind.ADVISORY_BOARD, 7),
)
ASK_NOTES: dict[str, str] = {
    ActivityKind.REFERENCE_CALL: "A prospect in the same industry wants to hear how the rollout went",
    ActivityKind.REVIEW: "A review on G2 before the quarter's end",
    ActivityKind.TESTIMONIAL: "A quote for the website's customer page",
    ActivityKind.CASE_STUDY: "A case study on the results of the first year",
    ActivityKind.REFERRAL: "An introduction to a peer at a sister company",
    ActivityKind.SPEAKING: "A talk at the customer conference",
    ActivityKind.ADVISORY_BOARD: "A seat on the product advisory board",
}
LINKS: dict[str, str] = {
    ActivityKind.REVIEW: "https://www.g2.com/products/touchpoint/reviews",
    ActivityKind.CASE_STUDY: "https://example.com/customers/stories",
    ActivityKind.TESTIMONIAL: "https://example.com/customers",
    ActivityKind.SPEAKING: "https://example.com/conference/talks",
}
DECLINE_NOTES = ("Too busy this quarter", "Needs legal approval first", "Prefers not to be named publicly")
OUTCOME_NOTES = ("Went well; the prospect signed", "Glowing, five stars", "Published", "Great feedback")
# (kind, low, high) of reward values in the reporting currency.
REWARDS = (
    (RewardKind.GIFT, 50, 150),
    (RewardKind.SWAG, 20, 60),
    (RewardKind.DONATION, 100, 500),
    (RewardKind.DISCOUNT, 500, 2000),
    (RewardKind.OTHER, 30, 100),
)


def _kind(rng: random.Random) -> str:
    kinds, weights = zip(*KIND_WEIGHTS, strict=True)
    return rng.choices(kinds, weights=weights)[0]


def _moment(ctx: DemoContext, day: date, rng: random.Random) -> datetime:
    moment = datetime.combine(day, time(rng.randint(9, 17), rng.randint(0, 59)), tzinfo=ctx.tz)
    return min(moment, ctx.end - timedelta(minutes=1))


def _latest_grades() -> dict[int, str]:
    last_day = HealthScore.objects.aggregate(last=Max("day"))["last"]
    if last_day is None:
        return {}
    return dict(HealthScore.objects.filter(day=last_day).values_list("account_id", "grade"))


def candidates_from_survey_answers() -> int:
    """Apply the `survey.answered` events the surveys step recorded, oldest first, as the consumer
    would (the demo is one transaction, in which PostgreSQL's consumer would see none of them
    settled); returns how many were read. The consumer's position row exists afterwards, so the
    demo's end moves it past the history and a worker started later replays nothing."""
    ConsumerPosition.objects.get_or_create(name=consumer.CONSUMER)
    if not is_registered(consumer.KIND):
        return 0
    events = list(DomainEvent.objects.filter(kind=consumer.KIND).order_by("occurred_at", "id"))
    for event in events:
        consumer.handle(event)
    return len(events)


# After the health scores (the grades say which accounts are healthy) and the surveys step (its NPS
# answers make the candidates).
@step("advocacy", after=("health", "surveys"))
def advocacy(ctx: DemoContext) -> None:
    rng = ctx.rng
    today = ctx.anchor
    first_day = today - timedelta(days=ctx.days - 1)
    grades = _latest_grades()
    currency = settings.TOUCHPOINT_CURRENCY
    # Promoters from the surveys step's answers when there are some; otherwise made here, as those
    # answers would have made them.
    from_surveys = candidates_from_survey_answers() > 0
    candidates: list[Candidate] = []
    advocates: list[tuple[Advocate, Contact, int | None]] = []
    for demo_account in ctx.accounts:
        account = demo_account.account
        if demo_account.churned_on is not None or not demo_account.contacts:
            continue
        grade = grades.get(account.pk, "unknown")
        created = max(first_day, account.created_at.astimezone(ctx.tz).date())
        # Champions and decision makers first: they are who answers NPS surveys warmly.
        people = sorted(
            demo_account.contacts,
            key=lambda c: (not ({"champion", "decision_maker"} & set(c.roles)), c.contact.pk),
        )
        promoter_share = 0.6 if grade == "green" else 0.25 if grade == "yellow" else 0.1
        for demo_contact in people[:3] if not from_surveys else ():
            if rng.random() >= promoter_share:
                continue
            scored_on = today - timedelta(days=rng.randint(0, max(0, (today - created).days)))
            later_passive = rng.random() < 0.1
            by_hand = not later_passive and rng.random() < 0.1
            candidates.append(
                Candidate(
                    contact=demo_contact.contact,
                    account=account,
                    is_candidate=not later_passive,
                    source=CandidateSource.MANUAL if by_hand else CandidateSource.SURVEY,
                    nps_score=None
                    if by_hand
                    else (rng.choice((7, 8)) if later_passive else rng.choice((9, 10, 10))),
                    category="" if by_hand else "passive" if later_passive else "promoter",
                    scored_at=None if by_hand else _moment(ctx, scored_on, rng),
                    answer_id=None,
                    since=_moment(ctx, scored_on, rng),
                    marked_by_id=account.owner_id if by_hand else None,
                )
            )
        # Most healthy customers of some standing have someone who speaks for them.
        if grade != "green" or rng.random() >= 0.6 or (today - created).days < 30:
            continue
        for demo_contact in people[: rng.choice((1, 1, 2))]:
            # Advocates usually stand up in the first half of a customer's life with us, not last month.
            since = created + timedelta(days=rng.randint(0, max(0, ((today - created).days - 20) // 2)))
            advocate = Advocate(
                contact=demo_contact.contact,
                account=account,
                since=since,
                notes=rng.choice(("", "Happy to take calls from prospects in retail", "Prefers email first")),
                created_by_id=account.owner_id,
                created_at=_moment(ctx, since, rng),
            )
            advocates.append((advocate, demo_contact.contact, account.owner_id))
    ctx.bulk_create(Candidate, candidates)
    ctx.bulk_create(Advocate, [advocate for advocate, _contact, _owner in advocates])

    asks: list[Ask] = []
    activities: list[tuple[Activity, Ask | None]] = []
    for advocate, contact, owner_id in advocates:
        asked_in_quarter: dict[date, int] = {}
        day = advocate.since
        while True:
            day += timedelta(days=rng.randint(25, 80))
            if day > today:
                break
            quarter = services.quarter_of(day)[0]
            if asked_in_quarter.get(quarter, 0) >= 2:
                continue
            asked_in_quarter[quarter] = asked_in_quarter.get(quarter, 0) + 1
            kind = _kind(rng)
            age = (today - day).days
            if age < 14:
                status = rng.choice((AskStatus.ASKED, AskStatus.ASKED, AskStatus.ACCEPTED))
            elif age < 40:
                status = rng.choice((AskStatus.ACCEPTED, AskStatus.DONE, AskStatus.DONE, AskStatus.DECLINED))
            else:
                status = rng.choices((AskStatus.DONE, AskStatus.DECLINED), weights=(4, 1))[0]
            closed_on = None
            if status in (AskStatus.DONE, AskStatus.DECLINED):
                closed_on = min(today, day + timedelta(days=rng.randint(3, 25)))
            the_ask = Ask(
                contact=contact,
                account_id=advocate.account_id,
                kind=kind,
                status=status,
                asked_on=day,
                asked_by_id=owner_id,
                note=ASK_NOTES[kind],
                outcome_note=(
                    rng.choice(DECLINE_NOTES)
                    if status == AskStatus.DECLINED
                    else rng.choice(OUTCOME_NOTES)
                    if status == AskStatus.DONE
                    else ""
                ),
                closed_on=closed_on,
                created_at=_moment(ctx, day, rng),
            )
            asks.append(the_ask)
        # Now and then something unasked: a referral, a talk they offered.
        if rng.random() < 0.3:
            done_on = advocate.since + timedelta(days=rng.randint(0, max(0, (today - advocate.since).days)))
            kind = rng.choice((ActivityKind.REFERRAL, ActivityKind.SPEAKING, ActivityKind.REVIEW))
            activities.append(
                (
                    Activity(
                        advocate=advocate,
                        account_id=advocate.account_id,
                        kind=kind,
                        occurred_on=done_on,
                        note="Offered it unprompted",
                        link=LINKS.get(kind, ""),
                        recorded_by_id=owner_id,
                        created_at=_moment(ctx, done_on, rng),
                    ),
                    None,
                )
            )
    _cover_every_status_and_kind(ctx, rng, advocates, asks)
    ctx.bulk_create(Ask, asks)
    advocate_of = {advocate.contact_id: advocate for advocate, _contact, _owner in advocates}
    for the_ask in asks:
        if the_ask.status == AskStatus.DONE and the_ask.closed_on is not None:
            activities.append(
                (
                    Activity(
                        advocate=advocate_of[the_ask.contact_id],
                        account_id=the_ask.account_id,
                        kind=the_ask.kind,
                        occurred_on=the_ask.closed_on,
                        note=the_ask.outcome_note,
                        link=LINKS.get(the_ask.kind, ""),
                        ask=the_ask,
                        recorded_by_id=the_ask.asked_by_id,
                        created_at=_moment(ctx, the_ask.closed_on, rng),
                    ),
                    the_ask,
                )
            )
    made = ctx.bulk_create(Activity, [activity for activity, _ask in activities])

    rewards: list[Reward] = []
    for activity in made:
        if rng.random() >= 0.55:
            continue
        kind, low, high = rng.choice(REWARDS)
        given_on = min(today, activity.occurred_on + timedelta(days=rng.randint(1, 10)))
        rewards.append(
            Reward(
                advocate=activity.advocate,
                account_id=activity.account_id,
                kind=kind,
                value=Decimal(rng.randint(low, high)),
                currency=currency,
                given_on=given_on,
                note=f"Thanks for the {ActivityKind(activity.kind).label.lower()}",
                given_by_id=activity.recorded_by_id,
                created_at=_moment(ctx, given_on, rng),
            )
        )
    ctx.bulk_create(Reward, rewards)
    _timeline(ctx, rng, asks, made, rewards)


def _cover_every_status_and_kind(
    ctx: DemoContext,
    rng: random.Random,
    advocates: list[tuple[Advocate, Contact, int | None]],
    asks: list[Ask],
) -> None:
    """A small demo can leave a status or the commonest kinds out by chance: the latest advocate gets an
    open ask made two days ago (within the quarter's limit) when none is open, and the earliest done
    asks become a reference call and a review when no done ask is one."""
    today = ctx.anchor
    if advocates and not any(a.status == AskStatus.ASKED for a in asks):
        advocate, contact, owner_id = advocates[-1]
        day = today - timedelta(days=2)
        quarter = services.quarter_of(day)[0]
        in_quarter = [
            a for a in asks if a.contact_id == contact.pk and services.quarter_of(a.asked_on)[0] == quarter
        ]
        if len(in_quarter) >= 2:
            asks.remove(in_quarter[-1])  # the newest of the quarter gives way to the open one
        asks.append(
            Ask(
                contact=contact,
                account_id=advocate.account_id,
                kind=ActivityKind.REFERENCE_CALL,
                status=AskStatus.ASKED,
                asked_on=day,
                asked_by_id=owner_id,
                note=ASK_NOTES[ActivityKind.REFERENCE_CALL],
                outcome_note="",
                closed_on=None,
                created_at=_moment(ctx, day, rng),
            )
        )
    done = sorted((a for a in asks if a.status == AskStatus.DONE), key=lambda a: (a.asked_on, a.contact_id))
    for kind, the_ask in zip((ActivityKind.REFERENCE_CALL, ActivityKind.REVIEW), done, strict=False):
        if not any(a.kind == kind for a in done):
            the_ask.kind, the_ask.note = kind, ASK_NOTES[kind]


def _timeline(
    ctx: DemoContext, rng: random.Random, asks: list[Ask], activities: list[Activity], rewards: list[Reward]
) -> None:
    """The entries the services write: an ask when made and when accepted or declined, each activity
    and each reward."""
    contacts = {
        contact.pk: contact
        for contact in Contact.objects.filter(
            pk__in={a.contact_id for a in asks} | {a.advocate.contact_id for a in activities}
        )
    }
    types = ContentType.objects.get_for_models(Ask, Activity, Reward)
    rows = []
    for the_ask in asks:
        contact = contacts[the_ask.contact_id]
        moments = [(the_ask.asked_on, AskStatus.ASKED)]
        if the_ask.status == AskStatus.ACCEPTED:
            moments.append(
                (min(ctx.anchor, the_ask.asked_on + timedelta(days=rng.randint(1, 5))), AskStatus.ACCEPTED)
            )
        if the_ask.status == AskStatus.DECLINED and the_ask.closed_on is not None:
            moments.append((the_ask.closed_on, AskStatus.DECLINED))
        for day, status in moments:
            rows.append(
                timeline_row(
                    account_id=the_ask.account_id,
                    kind="advocacy_ask",
                    occurred_at=_moment(ctx, day, rng),
                    title=services.ask_title(contact.name, the_ask.kind, status),
                    subject_type_id=types[Ask].pk,
                    subject_id=the_ask.pk,
                    data=services.ask_data(contact, the_ask.kind, status),
                    actor_id=the_ask.asked_by_id,
                    body=the_ask.note if status == AskStatus.ASKED else the_ask.outcome_note,
                )
            )
    for activity in activities:
        contact = contacts[activity.advocate.contact_id]
        rows.append(
            timeline_row(
                account_id=activity.account_id,
                kind="advocacy_activity",
                occurred_at=_moment(ctx, activity.occurred_on, rng),
                title=services.activity_title(contact.name, activity.kind),
                subject_type_id=types[Activity].pk,
                subject_id=activity.pk,
                data=services.activity_data(contact, activity.kind, activity.link),
                actor_id=activity.recorded_by_id,
                body=activity.note,
            )
        )
    for reward in rewards:
        contact = contacts[reward.advocate.contact_id]
        rows.append(
            timeline_row(
                account_id=reward.account_id,
                kind="advocacy_reward",
                occurred_at=_moment(ctx, reward.given_on, rng),
                title=services.reward_title(contact.name, reward.kind, reward.value, reward.currency),
                subject_type_id=types[Reward].pk,
                subject_id=reward.pk,
                data=services.reward_data(contact, reward.kind, reward.value, reward.currency),
                actor_id=reward.given_by_id,
                body=reward.note,
            )
        )
    ctx.insert_rows(TimelineEntry, TIMELINE_COLUMNS, rows, count_as="advocacy timeline entries")


def _delete_all() -> None:
    for model in (Reward, Activity, Ask, Advocate, Candidate):
        model.objects.all().delete()


# Before the accounts and contacts (whose deletion would take these rows with them anyway).
register_data(
    "advocacy",
    label=_("advocates, asks and rewards"),
    count=lambda: Advocate.objects.count() + Ask.objects.count() + Candidate.objects.count(),
    delete=_delete_all,
    order=5,
)
