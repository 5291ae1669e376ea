"""Daily rollups: current as events arrive, idempotent, equal to a rebuild from raw events."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from tests.factories import AccountFactory
from touchpoint.accounts.models import Account
from touchpoint.usage import rollups, selectors
from touchpoint.usage.models import DailyAccountRollup, DailyEventRollup, PendingRollup, RawEvent
from touchpoint.usage.services import create_source, ingest
from touchpoint.users.services import create_api_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def source():
    return create_source(name="App", actor=None)


def event(message_id, *, user="u1", name="Report created", group="acme", when=None, kind="track"):
    payload = {
        "type": kind,
        "messageId": message_id,
        "userId": user,
        "context": {"groupId": group},
        "timestamp": (when or timezone.now()).isoformat(),
    }
    if kind == "track":
        payload["event"] = name
    else:
        payload["name"] = name
    return payload


def snapshot():
    return (
        sorted(DailyEventRollup.objects.values_list("account_id", "day", "event", "events", "users")),
        sorted(DailyAccountRollup.objects.values_list("account_id", "day", "events", "active_users")),
    )


def test_rollups_count_events_and_distinct_people_and_stay_equal_to_a_rebuild(source):
    account = AccountFactory(external_id="acme")
    now = timezone.now().replace(hour=12)
    yesterday = now - timedelta(days=1)
    ingest(
        source=source,
        payloads=[
            event("1", when=now),
            event("2", when=now),
            event("3", user="u2", when=now),
            event("4", name="Pricing", kind="page", when=now),
            event("5", when=yesterday),
            {"type": "identify", "messageId": "6", "userId": "u1", "traits": {"name": "Ann"}},
        ],
    )
    assert not DailyEventRollup.objects.exists()  # ingestion only marks the day; the refresh catches up
    assert rollups.refresh_pending() == 2  # today and yesterday of one account
    today = rollups.day_of(now)
    rows = {r.event: (r.events, r.users) for r in DailyEventRollup.objects.filter(account=account, day=today)}
    assert rows == {"Report created": (3, 2), "page: Pricing": (1, 1)}
    day = DailyAccountRollup.objects.get(account=account, day=today)
    assert (day.events, day.active_users) == (4, 2)
    incremental = snapshot()
    call_command("usage", "rebuild")
    assert snapshot() == incremental


def test_a_replay_leaves_the_rollups_as_they_were(source):
    AccountFactory(external_id="acme")
    batch = [event(str(i)) for i in range(5)]
    ingest(source=source, payloads=batch)
    rollups.refresh_pending()
    before = snapshot()
    ingest(source=source, payloads=batch)
    assert rollups.refresh_pending() == 0  # a replay stores nothing, so nothing is pending
    assert snapshot() == before


def test_events_waiting_for_their_group_join_the_rollups_when_it_arrives(source):
    ingest(
        source=source, payloads=[{"type": "track", "messageId": "early", "userId": "u9", "event": "Opened"}]
    )
    rollups.refresh_pending()
    assert not DailyAccountRollup.objects.exists()
    ingest(
        source=source, payloads=[{"type": "group", "messageId": "g", "userId": "u9", "groupId": "late-co"}]
    )
    rollups.refresh_pending()
    assert DailyEventRollup.objects.get(event="Opened").events == 1


def test_a_track_call_before_its_group_call_in_the_same_batch_joins_the_account(source):
    ingest(
        source=source,
        payloads=[
            {"type": "track", "messageId": "t1", "userId": "u5", "event": "Opened"},
            {"type": "group", "messageId": "g1", "userId": "u5", "groupId": "same-batch-co"},
            {"type": "track", "messageId": "t2", "userId": "u5", "event": "Opened"},
        ],
    )
    rollups.refresh_pending()
    account = Account.objects.get(external_id="same-batch-co")
    assert set(RawEvent.objects.filter(type="track").values_list("account_id", flat=True)) == {account.pk}
    assert DailyEventRollup.objects.get(account=account, event="Opened").events == 2


def test_an_alias_in_the_same_batch_renames_the_earlier_anonymous_events(source):
    ingest(
        source=source,
        payloads=[
            {"type": "track", "messageId": "t1", "anonymousId": "anon-7", "event": "Visited"},
            {"type": "alias", "messageId": "a1", "previousId": "anon-7", "userId": "u7"},
        ],
    )
    assert RawEvent.objects.get(message_id="t1").user_id == "u7"


def test_refresh_for_some_accounts_leaves_the_others_pending(source):
    first, second = AccountFactory(external_id="one"), AccountFactory(external_id="two")
    ingest(source=source, payloads=[event("1", group="one"), event("2", group="two")])
    assert rollups.refresh_pending(account_ids=[first.pk]) == 1
    assert DailyAccountRollup.objects.filter(account=first).exists()
    assert not DailyAccountRollup.objects.filter(account=second).exists()
    assert PendingRollup.objects.filter(account=second).count() == 1
    assert rollups.refresh_pending() == 1 and not PendingRollup.objects.exists()


@pytest.mark.django_db(transaction=True)  # the worker manages its own connections, as in production
def test_the_worker_catches_the_rollups_up(source):
    account = AccountFactory(external_id="acme")
    ingest(source=source, payloads=[event("1"), event("2", user="u2")])
    call_command("worker", "--batch", "--no-schedules", verbosity=0)
    assert DailyAccountRollup.objects.get(account=account).active_users == 2


def test_usage_api_gives_every_day_zero_filled(source, csm):
    account = AccountFactory(external_id="acme")
    now = timezone.now().replace(hour=12)
    ingest(
        source=source, payloads=[event("a", when=now), event("b", when=now - timedelta(days=2), user="u3")]
    )
    # no refresh here: the API brings the account's rollups up to date before it answers
    key = create_api_key(user=csm)[1]
    body = (
        Client()
        .get(f"/api/v1/accounts/{account.pk}/usage", {"days": 3}, HTTP_AUTHORIZATION=f"Bearer {key}")
        .json()
    )
    assert [d["events"] for d in body["days"]] == [1, 0, 1] and body["total_events"] == 2
    assert body["days"][-1]["date"] == rollups.day_of(now).isoformat()
    assert body["days"][0]["active_users"] == 1
    bad = Client().get(
        f"/api/v1/accounts/{account.pk}/usage", {"days": 0}, HTTP_AUTHORIZATION=f"Bearer {key}"
    )
    assert bad.status_code == 422
    assert Client().get(f"/api/v1/accounts/{account.pk}/usage").status_code == 401


def test_active_users_over_windows_and_top_events(source):
    account = AccountFactory(external_id="acme")
    now = timezone.now()
    ingest(
        source=source,
        payloads=[
            event("1", user="a", when=now - timedelta(hours=1)),
            event("2", user="b", when=now - timedelta(days=3), name="Export"),
            event("3", user="c", when=now - timedelta(days=20), name="Export"),
        ],
    )
    assert [rollups.active_users(account.pk, days=d) for d in (1, 7, 30)] == [1, 2, 3]
    rollups.refresh_pending()
    assert [row["event"] for row in selectors.top_events(account, days=30)] == ["Export", "Report created"]


def test_a_rebuild_keeps_the_rollups_of_days_whose_raw_events_were_dropped(source):
    account = AccountFactory(external_id="acme")
    now = timezone.now().replace(hour=12)
    ingest(source=source, payloads=[event("1", when=now), event("2", when=now - timedelta(days=3))])
    rollups.refresh_pending()
    # A day from before retention dropped its raw events, and a stale row on a day raw events still cover.
    long_ago = rollups.day_of(now) - timedelta(days=400)
    DailyAccountRollup.objects.create(account=account, day=long_ago, events=7, active_users=2)
    DailyEventRollup.objects.create(account=account, day=long_ago, event="Report created", events=7, users=2)
    DailyAccountRollup.objects.filter(account=account, day=rollups.day_of(now)).update(events=99)
    call_command("usage", "rebuild")
    assert DailyAccountRollup.objects.get(account=account, day=long_ago).events == 7
    assert DailyEventRollup.objects.get(account=account, day=long_ago).events == 7
    assert DailyAccountRollup.objects.get(account=account, day=rollups.day_of(now)).events == 1
