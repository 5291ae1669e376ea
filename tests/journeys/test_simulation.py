"""The simulation: a journey run against realistic history (accounts, renewals, health by day, domain
and product events), checked for who enters, which paths they take, what they are sent and what
converts."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import AccountFactory, ContactFactory, SubscriptionFactory
from touchpoint.accounts.models import Account
from touchpoint.events.models import DomainEvent
from touchpoint.health.models import HealthScore
from touchpoint.health.services import ensure_default_scorecard
from touchpoint.journeys.definition import parse
from touchpoint.journeys.interpreter import Subject
from touchpoint.journeys.models import ConsentStatus, DeliverySettings, MessagingConsent
from touchpoint.journeys.simulation import MESSAGES_SHOWN, simulate
from touchpoint.usage.models import ProductUser, RawEvent, Source

NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)


def definition(**overrides: Any):
    data: dict[str, Any] = {
        "key": "test-journey",
        "name": "Test journey",
        "entry": {"trigger": "manual"},
        "messages": {
            "hello": {
                "en": {
                    "subject": "Hello {{ contact.first_name }}",
                    "body": "Hi {{ contact.name }} at {{ account.name }}",
                },
                "ja": {"subject": "こんにちは {{ contact.name }}", "body": "{{ account.name }} の皆さま"},
            }
        },
        "steps": [{"id": "mail", "type": "email", "message": "hello"}],
    }
    data.update(overrides)
    return parse(data)


def day(days_ago: float) -> datetime:
    return NOW - timedelta(days=days_ago)


def event(kind: str, account, at: datetime, **payload: Any) -> DomainEvent:
    return DomainEvent.objects.create(
        kind=kind,
        account_id=account.pk,
        subject_type="accounts.account",
        subject_id=account.pk,
        payload=payload,
        occurred_at=at,
    )


def product_event(name: str, account, at: datetime, contact=None, **properties: Any) -> RawEvent:
    source = Source.objects.first() or Source.objects.create(name="web")
    return RawEvent.objects.create(
        source=source,
        message_id=f"m-{RawEvent.objects.count()}",
        type="track",
        event=name,
        user_id=f"u-{contact.pk if contact else account.pk}",
        account_id=account.pk,
        contact_id=contact.pk if contact else None,
        timestamp=at,
        day=at.date(),
        properties=properties,
    )


def many_accounts(count: int) -> list[Account]:
    """Plain accounts in one insert (the factory's owner per account costs a password hash each)."""
    Account.objects.bulk_create([Account(name=f"Customer {n}") for n in range(count)])
    return list(Account.objects.order_by("-id")[:count])[::-1]


def grades(account, by_days_ago: dict[int, str]) -> None:
    version = ensure_default_scorecard().current_version
    HealthScore.objects.bulk_create(
        [
            HealthScore(
                account=account,
                day=(NOW - timedelta(days=ago)).date(),
                version_id=version.pk,
                grade=grade,
                score=50,
            )
            for ago, grade in by_days_ago.items()
        ]
    )


# --- Who enters -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_renewal_countdown_enters_the_accounts_whose_renewal_minus_days_falls_in_the_window():
    inside = AccountFactory(name="Inside")
    ContactFactory(account=inside)
    SubscriptionFactory(
        account=inside, started_on=date(2025, 8, 1), renewal_date=date(2026, 8, 1)
    )  # -90: May 3
    too_far = AccountFactory(name="Too far")
    SubscriptionFactory(account=too_far, started_on=date(2025, 12, 1), renewal_date=date(2026, 12, 1))
    # Renewed in March: its anniversary (March 15) minus 90 days is Dec 15, before the window.
    past = AccountFactory(name="Past")
    SubscriptionFactory(account=past, started_on=date(2025, 3, 15), renewal_date=date(2027, 3, 15))
    journey = definition(entry={"trigger": "date", "date": "renewal", "days": -90})

    result = simulate(journey, days=90, now=NOW)

    assert result.entered == 1
    assert result.entered_by_day == {"2026-05-03": 1}
    assert result.messages[0]["account"] == "Inside"
    assert result.to_json()["entered_by_day"] == {"2026-05-03": 1}


@pytest.mark.django_db
def test_a_past_renewal_anniversary_triggers_an_after_renewal_journey():
    account = AccountFactory()
    # Started 2025-05-01 on 12 months: renewed 2026-05-01 (its renewal date moved on to 2027).
    SubscriptionFactory(account=account, started_on=date(2025, 5, 1), renewal_date=date(2027, 5, 1))
    canceled = AccountFactory()
    SubscriptionFactory(
        account=canceled,
        started_on=date(2025, 5, 1),
        renewal_date=None,
        canceled_on=date(2026, 2, 1),
        status="canceled",
    )
    journey = definition(entry={"trigger": "date", "date": "renewal", "days": 14})

    result = simulate(journey, days=90, now=NOW)

    assert result.entered == 1
    assert list(result.entered_by_day) == ["2026-05-15"]


@pytest.mark.django_db
def test_domain_event_entry_checks_where_on_the_payload_and_the_audience_as_of_the_moment():
    red_low = AccountFactory(engagement_model="low")
    green = AccountFactory(engagement_model="low")
    high = AccountFactory(engagement_model="high")
    for account in (red_low, green, high):
        ContactFactory(account=account)
    event("health.grade_changed", red_low, day(10), grade="red", previous_grade="yellow")
    event("health.grade_changed", green, day(9), grade="green", previous_grade="yellow")
    event("health.grade_changed", high, day(8), grade="red", previous_grade="green")
    event("health.grade_changed", red_low, day(200), grade="red", previous_grade="green")  # before the window
    event("account.changed", red_low, day(3))
    journey = definition(
        entry={
            "trigger": "event",
            "event": "health.grade_changed",
            "where": {"field": "entry.payload.grade", "op": "eq", "value": "red"},
        },
        audience={
            "when": {"field": "account.engagement_model", "op": "in", "value": ["low_touch", "hybrid"]}
        },
    )

    result = simulate(journey, days=90, now=NOW)

    assert result.entered == 1
    assert result.refused["audience"] == 1  # the high-touch account: a red grade, outside the audience
    # The engagement model keeps no history: the result says it was read as it is today.
    assert any("account.engagement_model" in note for note in result.notes)
    assert [m["account_id"] for m in result.messages] == [red_low.pk]


@pytest.mark.django_db
def test_product_event_entry_maps_to_contacts_and_reads_properties():
    account = AccountFactory()
    champion = ContactFactory(account=account, roles=["champion"], name="Ann Champion")
    user = ContactFactory(account=account, roles=["user"], name="Bob User")
    product_event("Plan upgraded", account, day(5), contact=champion, plan="pro")
    product_event("Plan upgraded", account, day(4), contact=user, plan="pro")
    product_event("Plan upgraded", account, day(3), contact=champion, plan="basic")
    product_event("Report created", account, day(2), contact=champion, plan="pro")
    journey = definition(
        subject="contact",
        audience={"roles": ["champion"]},
        entry={
            "trigger": "product_event",
            "product_event": "Plan upgraded",
            "where": {"field": "entry.properties.plan", "op": "eq", "value": "pro"},
        },
    )

    result = simulate(journey, days=30, now=NOW)

    assert result.entered == 1
    assert [m["to"] for m in result.messages] == [champion.email]
    assert result.messages[0]["subject"] == "Hello Ann"


@pytest.mark.django_db
def test_manual_entry_enters_nobody_and_says_so():
    AccountFactory()
    result = simulate(definition(), days=30, now=NOW)
    assert result.entered == 0
    assert "manual" in " ".join(result.notes)


@pytest.mark.django_db
def test_schedule_fires_for_the_audience_and_the_one_active_rule_holds():
    accounts = many_accounts(3)
    for account in accounts:
        ContactFactory(account=account)
    # Weekly on Mondays; the enrollment waits 10 days, so next Monday finds it still active.
    journey = definition(
        entry={"trigger": "schedule", "cron": "0 9 * * 1"},
        reentry={"policy": "after_exit"},
        steps=[
            {"id": "pause", "type": "wait", "days": 10},
            {"id": "mail", "type": "email", "message": "hello"},
        ],
    )

    result = simulate(journey, days=28, now=NOW)

    mondays = 4  # June 8, 15, 22, 29 2026 (June 2's window starts on a Tuesday)
    assert result.entered + result.refused["active"] == mondays * 3
    assert (
        result.entered == 2 * 3
    )  # in on the 8th, active on the 15th, in again on the 22nd, active on the 29th
    assert result.refused["active"] == 2 * 3


# --- Paths ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_split_reads_the_health_grade_as_of_the_moment_it_is_reached():
    ever_green = AccountFactory(name="Ever green")
    fell = AccountFactory(name="Fell")
    for account in (ever_green, fell):
        ContactFactory(account=account)
        event("account.created", account, day(30))
    grades(ever_green, {40: "green", 20: "green", 1: "green"})
    # Green when it entered, red a week later when the split is reached, green again by now.
    grades(fell, {40: "green", 25: "red", 2: "green"})
    journey = definition(
        entry={"trigger": "event", "event": "account.created"},
        steps=[
            {"id": "week", "type": "wait", "days": 7},
            {
                "id": "healthy",
                "type": "split",
                "when": {"field": "account.health_grade", "op": "eq", "value": "green"},
                "then": [{"id": "mail", "type": "email", "message": "hello"}],
                "else": [{"id": "call", "type": "task", "title": "Call them"}],
            },
        ],
    )

    result = simulate(journey, days=90, now=NOW).to_json()

    assert result["steps"]["mail"]["reached"] == 1
    assert result["steps"]["call"]["reached"] == 1
    paths = {
        tuple((s["step"], s["outcome"]) for s in path["steps"]): path["count"] for path in result["paths"]
    }
    assert paths == {
        (("week", "done"), ("healthy", "then"), ("mail", "")): 1,
        (("week", "done"), ("healthy", "else"), ("call", "")): 1,
    }
    assert result["effects"] == {"email": 1, "task": 1}
    assert result["outcomes"]["completed"] == 2


@pytest.mark.django_db
def test_ab_split_spreads_enrollments_by_the_percentages_and_counts_conversions_per_arm():
    accounts = many_accounts(200)
    for account in accounts:
        event("account.created", account, day(20))
    for account in accounts[::4]:
        product_event("Report created", account, day(15))
    journey = definition(
        entry={"trigger": "event", "event": "account.created"},
        goal={"did": "Report created", "within_days": 30},
        steps=[
            {
                "id": "ab",
                "type": "random",
                "arms": [
                    {
                        "arm": "A",
                        "percent": 50,
                        "steps": [{"id": "mail-a", "type": "email", "message": "hello"}],
                    },
                    {"arm": "B", "percent": 50, "steps": [{"id": "task-b", "type": "task", "title": "Call"}]},
                ],
            },
            {"id": "wait", "type": "wait", "days": 10},
            {"id": "mail-end", "type": "email", "message": "hello"},
        ],
    )

    result = simulate(journey, days=30, now=NOW)

    arms = result.arms["ab"]
    assert arms["A"]["entered"] + arms["B"]["entered"] == 200
    assert 60 < arms["A"]["entered"] < 140
    assert arms["A"]["converted"] + arms["B"]["converted"] == 50 == result.conversions
    assert result.outcomes["completed"] == 150
    assert result.steps["mail-end"]["reached"] == 150  # converted ones left at the wait's end
    assert result.steps["mail-a"]["reached"] == arms["A"]["entered"]


@pytest.mark.django_db
def test_a_wait_for_an_event_ends_when_history_has_it_before_the_timeout():
    quick = AccountFactory(name="Quick")
    slow = AccountFactory(name="Slow")
    never = AccountFactory(name="Never")
    for account in (quick, slow, never):
        event("account.created", account, day(40))
    product_event("Dashboard shared", quick, day(38))
    product_event("Dashboard shared", slow, day(20))  # after the 7-day time-out
    journey = definition(
        entry={"trigger": "event", "event": "account.created"},
        steps=[
            {
                "id": "shared",
                "type": "wait",
                "event": "Dashboard shared",
                "timeout_days": 7,
                "on_timeout": "exit",
            },
            {"id": "mail", "type": "email", "message": "hello"},
        ],
    )

    result = simulate(journey, days=90, now=NOW).to_json()

    assert result["outcomes"] == {"converted": 0, "exited": 2, "completed": 1, "active": 0}
    ended = {path["ended"]: path["steps"] for path in result["paths"]}
    assert ended["completed"][0] == {"step": "shared", "outcome": "event"}
    assert ended["exited"] == [{"step": "shared", "outcome": "timeout"}]


@pytest.mark.django_db
def test_waiting_enrollments_are_counted_on_their_step_at_the_end():
    account = AccountFactory()
    event("account.created", account, day(3))
    journey = definition(
        entry={"trigger": "event", "event": "account.created"},
        steps=[
            {"id": "week", "type": "wait", "days": 7},
            {"id": "mail", "type": "email", "message": "hello"},
        ],
    )
    result = simulate(journey, days=30, now=NOW).to_json()
    assert result["steps"]["week"] == {"reached": 1, "waiting": 1}
    assert result["outcomes"]["active"] == 1
    assert result["messages_total"] == 0


# --- Messages: caps, quiet hours, consent, language --------------------------------------------------


@pytest.mark.django_db
def test_messages_over_the_weekly_cap_are_counted_as_capped_per_contact():
    DeliverySettings.objects.create(
        pk=1, weekly_email_cap=2, quiet_hours_start="00:00", quiet_hours_end="00:00"
    )
    account = AccountFactory()
    contact = ContactFactory(account=account)
    event("account.created", account, day(20))
    steps: list[dict[str, Any]] = []
    for n in range(4):  # an email a day for four days
        steps += [
            {"id": f"mail-{n}", "type": "email", "message": "hello"},
            {"id": f"day-{n}", "type": "wait", "days": 1},
        ]
    steps.append({"id": "after-a-week", "type": "wait", "days": 7})
    steps.append({"id": "mail-later", "type": "email", "message": "hello"})
    journey = definition(entry={"trigger": "event", "event": "account.created"}, steps=steps)

    result = simulate(journey, days=30, now=NOW)

    assert result.weekly_email_cap == 2
    assert result.capped == 2
    assert result.delivery["sent"] == 3  # two, then two capped, then one a week later
    assert [m["status"] for m in result.messages] == ["sent", "sent", "capped", "capped", "sent"]
    assert {m["to"] for m in result.messages} == {contact.email}
    assert result.to_json()["cap_scope"] == "this journey's simulated emails only"
    assert any("only this journey's simulated emails" in note for note in result.notes)


@pytest.mark.django_db
def test_quiet_hours_defer_in_the_contacts_time_zone_and_consent_and_addresses_are_respected():
    account = AccountFactory()
    tokyo = ContactFactory(account=account, time_zone="Asia/Tokyo", language="ja", name="Yuki Sato")
    london = ContactFactory(account=account, time_zone="Europe/London")
    gone = ContactFactory(account=account)
    MessagingConsent.objects.create(contact=gone, status=ConsentStatus.UNSUBSCRIBED)
    ContactFactory(account=account, email="")
    # 14:00 UTC is 23:00 in Tokyo (quiet, defaults 21:00–08:00) and 15:00 in London.
    event("account.created", account, datetime(2026, 6, 20, 14, 0, tzinfo=UTC))
    journey = definition(entry={"trigger": "event", "event": "account.created"})

    result = simulate(journey, days=30, now=NOW)

    by_contact = {m["contact_id"]: m for m in result.messages}
    assert by_contact[tokyo.pk]["status"] == "deferred"
    assert by_contact[tokyo.pk]["at"] == "2026-06-20T23:00:00+00:00"  # 08:00 in Tokyo
    assert by_contact[tokyo.pk]["language"] == "ja"
    assert by_contact[tokyo.pk]["subject"] == "こんにちは Yuki Sato"
    assert by_contact[london.pk]["status"] == "sent"
    assert by_contact[gone.pk]["status"] == "unsubscribed"
    assert result.delivery == {"deferred": 1, "sent": 1, "unsubscribed": 1, "no_address": 1}
    assert result.quiet_hours_deferred == 1


@pytest.mark.django_db
def test_messages_shown_are_capped_but_all_are_counted():
    accounts = many_accounts(3)
    for account in accounts:
        ContactFactory(account=account)
    DomainEvent.objects.bulk_create(
        [
            DomainEvent(
                kind="account.changed", account_id=accounts[n % 3].pk, payload={}, occurred_at=day(n / 10)
            )
            for n in range(1, 251)
        ]
    )
    DeliverySettings.objects.create(
        pk=1, weekly_email_cap=1000, quiet_hours_start="00:00", quiet_hours_end="00:00"
    )
    journey = definition(
        entry={"trigger": "event", "event": "account.changed"}, reentry={"policy": "after_exit"}
    )

    result = simulate(journey, days=30, now=NOW)

    assert result.entered == 250
    assert result.messages_total == 250
    assert len(result.messages) == MESSAGES_SHOWN
    assert [m["at"] for m in result.messages] == sorted(m["at"] for m in result.messages)


@pytest.mark.django_db
def test_the_result_is_plain_json():
    account = AccountFactory()
    ContactFactory(account=account)
    event("account.created", account, day(5))
    result = simulate(definition(entry={"trigger": "event", "event": "account.created"}), days=30, now=NOW)
    data = json.loads(json.dumps(result.to_json()))
    assert set(data) == {
        "journey", "days", "start", "end", "trigger", "notes", "entered", "entered_by_day", "refused", "steps",
        "paths", "arms", "outcomes", "conversions", "effects", "messages_total", "messages", "delivery", "capped",
        "quiet_hours_deferred", "weekly_email_cap", "cap_scope",
    }  # fmt: skip
    assert data["messages"][0]["text"].startswith("Hi ")


def test_days_must_be_positive():
    with pytest.raises(ValueError):
        simulate(definition(), days=0, now=NOW)


# --- Properties ---------------------------------------------------------------------------------------


@pytest.fixture
def busy_history(db):
    accounts = many_accounts(6)
    events = []
    for n in range(60):
        account = accounts[(n * 7) % 6]
        events.append(
            DomainEvent(
                kind="account.changed", account_id=account.pk, payload={"n": n}, occurred_at=day(n * 0.9)
            )
        )
    DomainEvent.objects.bulk_create(events)
    return accounts


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    policy=st.sampled_from(["never", "after_exit", "after_days"]),
    reentry_days=st.integers(min_value=1, max_value=30),
    wait_days=st.integers(min_value=0, max_value=20),
    days=st.integers(min_value=1, max_value=60),
)
def test_entries_never_exceed_what_the_audience_and_the_policy_allow(
    busy_history, policy, reentry_days, wait_days, days
):
    steps: list[dict[str, Any]] = [{"id": "mail", "type": "email", "message": "hello"}]
    if wait_days:
        steps.insert(0, {"id": "pause", "type": "wait", "days": wait_days})
    reentry: dict[str, Any] = {"policy": policy}
    if policy == "after_days":
        reentry["days"] = reentry_days
    journey = definition(entry={"trigger": "event", "event": "account.changed"}, reentry=reentry, steps=steps)

    result = simulate(journey, days=days, now=NOW)

    candidates = DomainEvent.objects.filter(
        kind="account.changed", occurred_at__gte=NOW - timedelta(days=days)
    ).count()
    audience = len(busy_history)
    assert result.entered + result.refused["active"] + result.refused["reentry"] == candidates
    if policy == "never":
        assert result.entered <= audience
    elif policy == "after_days":
        assert result.entered <= audience * (days // reentry_days + 1)
    if wait_days and policy == "after_exit":  # active for the whole wait: entries at least that far apart
        assert result.entered <= audience * (days // wait_days + 1)
    assert sum(result.outcomes.values()) == result.entered
    assert sum(path["count"] for path in result.to_json()["paths"]) == result.entered


@pytest.mark.django_db
def test_a_product_event_stored_before_its_user_was_known_is_matched_through_the_product_user():
    account = AccountFactory()
    contact = ContactFactory(account=account, name="Late Comer")
    stored = product_event("Report created", account, day(3))
    RawEvent.objects.filter(pk=stored.pk).update(account_id=None, contact_id=None, user_id="u-late")
    ProductUser.objects.create(user_id="u-late", account=account, contact=contact)
    journey = definition(
        subject="contact", entry={"trigger": "product_event", "product_event": "Report created"}
    )

    result = simulate(journey, days=30, now=NOW)

    assert result.entered == 1
    assert result.messages[0]["contact_id"] == contact.pk


@pytest.mark.django_db
def test_the_daily_recheck_notices_a_goal_met_during_a_long_wait():
    account = AccountFactory()
    event("account.created", account, day(20))
    grades(account, {30: "red", 12: "green"})  # green eight days after it entered
    journey = definition(
        entry={"trigger": "event", "event": "account.created"},
        goal={"field": "account.health_grade", "op": "eq", "value": "green"},
        steps=[
            {"id": "long", "type": "wait", "days": 60},
            {"id": "mail", "type": "email", "message": "hello"},
        ],
    )

    result = simulate(journey, days=30, now=NOW)

    # The wait ends after `now`: only the engine's daily re-check (journeys.recheck) can see the goal.
    assert result.conversions == 1
    assert result.steps["long"] == {"reached": 1, "waiting": 0}
    assert result.messages_total == 0


# --- The values read once for the window are the resolvers' values ------------------------------------


@pytest.fixture
def varied_history(db):
    accounts = []
    for n, model in enumerate(["high", "low", "hybrid", "low"]):
        account = AccountFactory(
            engagement_model=model, attributes={"plan": ["pro", "basic"][n % 2], "seats": n}
        )
        accounts.append(account)
        ContactFactory(account=account)
    grades(accounts[0], {50: "red", 30: "yellow", 10: "green"})
    grades(accounts[1], {5: "red"})
    grades(accounts[2], {80: "green", 79: "red", 0: "yellow"})
    # A score every day that moves within runs of one grade, with a gap: the window's reads keep only
    # the days a value changed, and must still answer each day as the resolvers do.
    version = ensure_default_scorecard().current_version
    HealthScore.objects.bulk_create(
        HealthScore(
            account=accounts[3],
            day=(NOW - timedelta(days=ago)).date(),
            version_id=version.pk,
            grade="red" if 40 <= ago < 55 else "yellow",
            score=40 + ago % 7,
        )
        for ago in range(95)
        if not 20 <= ago < 25
    )
    contact = accounts[0].contacts.first()
    for n in range(12):
        product_event("Report created", accounts[n % 3], day(n * 4.5), contact=contact if n % 2 else None)
    return accounts


FIELDS = [
    "account.health_grade",
    "account.health_score",
    "account.engagement_model",
    "account.attributes.plan",
]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    which=st.integers(min_value=0, max_value=4),
    with_contact=st.booleans(),
    days_ago=st.floats(min_value=0, max_value=89),
    within=st.integers(min_value=1, max_value=40),
)
def test_values_read_for_the_window_equal_what_the_resolvers_read(
    varied_history, which, with_contact, days_ago, within
):
    from touchpoint.journeys import conditions
    from touchpoint.journeys.definition import DidCondition
    from touchpoint.journeys.simulation import HistoricalContext, History

    journey = definition(goal={"did": "Report created", "within_days": 40})
    history = History(journey, start=NOW - timedelta(days=90), end=NOW)
    context = HistoricalContext(history)
    account_id = varied_history[which].pk if which < len(varied_history) else 10**9  # one that does not exist
    contact_id = varied_history[0].contacts.first().pk if with_contact and which == 0 else None
    subject = Subject(account_id, contact_id)
    at = day(days_ago)
    for name in FIELDS:
        assert context.value_of(name, subject, at, {}) == conditions.value_of(name, subject, at, {}), name
    did = DidCondition(did="Report created", within_days=within)
    assert history.did_count(did, subject, at) == conditions.did(did, subject, at)
    model = conditions.value_of("account.engagement_model", subject, at, {}) or "hybrid"
    assert context.engagement_model(subject, at) == model
