"""Daily rollups: current as events arrive, idempotent, equal to a rebuild from raw events."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from tests.factories import AccountFactory
from touchpoint.usage import rollups, selectors
from touchpoint.usage.models import DailyAccountRollup, DailyEventRollup
from touchpoint.usage.services import create_source, ingest
from touchpoint.users.services import create_api_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def source():
    return create_source(name="App", actor=None)


def event(message_id, *, user="u1", name="Report created", group="acme", when=None, kind="track"):
    payload = {"type": kind, "messageId": message_id, "userId": user, "context": {"groupId": group},
               "timestamp": (when or timezone.now()).isoformat()}
    if kind == "track":
        payload["event"] = name
    else:
        payload["name"] = name
    return payload


def snapshot():
    return (sorted(DailyEventRollup.objects.values_list("account_id", "day", "event", "events", "users")),
            sorted(DailyAccountRollup.objects.values_list("account_id", "day", "events", "active_users")))


def test_rollups_count_events_and_distinct_people_and_stay_equal_to_a_rebuild(source):
    account = AccountFactory(external_id="acme")
    now = timezone.now().replace(hour=12)
    yesterday = now - timedelta(days=1)
    ingest(source=source, payloads=[
        event("1", when=now), event("2", when=now), event("3", user="u2", when=now),
        event("4", name="Pricing", kind="page", when=now), event("5", when=yesterday),
        {"type": "identify", "messageId": "6", "userId": "u1", "traits": {"name": "Ann"}},
    ])
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
    before = snapshot()
    ingest(source=source, payloads=batch)
    assert snapshot() == before


def test_events_waiting_for_their_group_join_the_rollups_when_it_arrives(source):
    ingest(source=source, payloads=[{"type": "track", "messageId": "early", "userId": "u9", "event": "Opened"}])
    assert not DailyAccountRollup.objects.exists()
    ingest(source=source, payloads=[{"type": "group", "messageId": "g", "userId": "u9", "groupId": "late-co"}])
    assert DailyEventRollup.objects.get(event="Opened").events == 1


def test_usage_api_gives_every_day_zero_filled(source, csm):
    account = AccountFactory(external_id="acme")
    now = timezone.now().replace(hour=12)
    ingest(source=source, payloads=[event("a", when=now), event("b", when=now - timedelta(days=2), user="u3")])
    key = create_api_key(user=csm)[1]
    body = Client().get(f"/api/v1/accounts/{account.pk}/usage", {"days": 3},
                        HTTP_AUTHORIZATION=f"Bearer {key}").json()
    assert [d["events"] for d in body["days"]] == [1, 0, 1] and body["total_events"] == 2
    assert body["days"][-1]["date"] == rollups.day_of(now).isoformat()
    assert body["days"][0]["active_users"] == 1
    bad = Client().get(f"/api/v1/accounts/{account.pk}/usage", {"days": 0}, HTTP_AUTHORIZATION=f"Bearer {key}")
    assert bad.status_code == 422
    assert Client().get(f"/api/v1/accounts/{account.pk}/usage").status_code == 401


def test_active_users_over_windows_and_top_events(source):
    account = AccountFactory(external_id="acme")
    now = timezone.now()
    ingest(source=source, payloads=[
        event("1", user="a", when=now - timedelta(hours=1)),
        event("2", user="b", when=now - timedelta(days=3), name="Export"),
        event("3", user="c", when=now - timedelta(days=20), name="Export"),
    ])
    assert [rollups.active_users(account.pk, days=d) for d in (1, 7, 30)] == [1, 2, 3]
    assert [row["event"] for row in selectors.top_events(account, days=30)] == ["Export", "Report created"]
