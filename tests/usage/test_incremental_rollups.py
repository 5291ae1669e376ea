"""Rollups are added to as events arrive; whatever the order of events, refreshes, group and alias
calls, replays and late events, they equal a rebuild from the raw events."""

from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from touchpoint.accounts.models import Account
from touchpoint.usage import rollups
from touchpoint.usage.models import (
    DailyAccountRollup,
    DailyEventRollup,
    PendingRollup,
    ProductUser,
    RawEvent,
    ReceivedMessage,
    RollupPerson,
)
from touchpoint.usage.services import create_source, ingest

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)


def snapshot():
    return (
        sorted(DailyEventRollup.objects.values_list("account_id", "day", "event", "events", "users")),
        sorted(DailyAccountRollup.objects.values_list("account_id", "day", "events", "active_users")),
    )


message = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["track", "track", "page", "screen", "group", "alias", "identify"]),
        "user": st.sampled_from(["u1", "u2", "u3", "", "anon-1"]),
        "group": st.sampled_from(["a1", "a2", ""]),
        "name": st.sampled_from(["Report created", "Export", ""]),
        "days_ago": st.integers(min_value=0, max_value=9),
        "replay": st.booleans(),
    }
)
step = st.one_of(st.lists(message, min_size=1, max_size=6), st.just("refresh"), st.just("forget"))


def payload(n: int, m: dict) -> dict:
    when = (NOW - timedelta(days=m["days_ago"])).isoformat()
    body: dict = {"type": m["kind"], "messageId": f"m{n}", "timestamp": when}
    if m["user"].startswith("anon"):
        body["anonymousId"] = m["user"]
    elif m["user"]:
        body["userId"] = m["user"]
    else:
        body["anonymousId"] = "anon-2"
    if m["kind"] == "track":
        body["event"] = m["name"] or "Signed in"
    elif m["kind"] in ("page", "screen") and m["name"]:
        body["name"] = m["name"]
    if m["kind"] == "alias":
        body["previousId"] = "anon-1" if m["user"] != "anon-1" else "anon-2"
        body["userId"] = m["user"] if m["user"] and not m["user"].startswith("anon") else "u3"
    if m["group"]:
        if m["kind"] == "group":
            body["groupId"] = m["group"]
            body.setdefault("userId", "u1")
        else:
            body["context"] = {"groupId": m["group"]}
    elif m["kind"] == "group":
        body["groupId"] = "a1"
        body.setdefault("userId", "u2")
    return body


def track(message_id: str, user: str, group: str, event: str = "E", days_ago: int = 0) -> dict:
    return {
        "type": "track",
        "messageId": message_id,
        "userId": user,
        "event": event,
        "context": {"groupId": group},
        "timestamp": (NOW - timedelta(days=days_ago)).isoformat(),
    }


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(step, min_size=1, max_size=8))
def test_added_rollups_always_equal_a_rebuild(steps):
    for model in (
        RollupPerson,
        PendingRollup,
        DailyEventRollup,
        DailyAccountRollup,
        RawEvent,
        ReceivedMessage,
    ):
        model.objects.all().delete()
    ProductUser.objects.all().delete()
    Account.objects.all().delete()
    Account.objects.create(name="A1", external_id="a1")
    source = create_source(name=f"S{Account.objects.get().pk}", actor=None)
    sent: list[dict] = []
    for item in steps:
        if item == "refresh":
            rollups.refresh_pending()
        elif item == "forget":  # the nightly job: older days lose their people, later events recompute them
            rollups.forget_people_before(rollups.day_of(NOW) - timedelta(days=3))
        else:
            batch = []
            for m in item:
                if m["replay"] and sent:
                    batch.append(sent[len(sent) // 2])
                else:
                    body = payload(len(sent), m)
                    sent.append(body)
                    batch.append(body)
            ingest(source=source, payloads=batch)
    rollups.refresh_pending()
    assert not PendingRollup.objects.exists()
    added = snapshot()
    rollups.rebuild()
    assert snapshot() == added


def test_a_busy_day_is_added_to_without_reading_its_events_again(django_assert_max_num_queries):
    Account.objects.create(name="Busy", external_id="busy")
    source = create_source(name="Busy app", actor=None)
    for batch in range(3):
        ingest(
            source=source,
            payloads=[track(f"{batch}-{i}", f"u{i % 9}", "busy", "Report created") for i in range(100)],
        )
        rollups.refresh_pending()
    day = DailyAccountRollup.objects.get()
    assert (day.events, day.active_users, day.people_kept) == (300, 9, True)
    assert RollupPerson.objects.count() == 18  # 9 people, for the day and for the event
    # Whatever the day already holds, a refresh reads only the pending rows and writes a few statements.
    ingest(source=source, payloads=[track("late", "u99", "busy", "Export")])
    with django_assert_max_num_queries(10) as captured:
        assert rollups.refresh_pending() == 1
    assert not any("usage_rawevent" in q["sql"] for q in captured.captured_queries)
    day.refresh_from_db()
    assert (day.events, day.active_users) == (301, 10)


def test_a_day_rolled_up_without_its_people_is_recomputed_once_then_added_to():
    account = Account.objects.create(name="Old", external_id="old")
    source = create_source(name="Old app", actor=None)
    ingest(source=source, payloads=[track("1", "u1", "old")])
    rollups.rebuild()  # as the demo data and an upgrade leave the rollups: no people kept
    assert not DailyAccountRollup.objects.get(account=account).people_kept
    ingest(source=source, payloads=[track("2", "u1", "old")])
    rollups.refresh_pending()
    day = DailyAccountRollup.objects.get(account=account)
    assert (day.events, day.active_users, day.people_kept) == (2, 1, True)  # u1 not counted twice


def test_the_nightly_job_forgets_old_days_people_and_keeps_their_numbers():
    account = Account.objects.create(name="Acme", external_id="acme")
    source = create_source(name="Acme app", actor=None)
    ingest(source=source, payloads=[track(str(n), "u1", "acme", days_ago=n * 5) for n in range(3)])
    rollups.refresh_pending()
    from touchpoint.usage.tasks import delete_old_raw_events_task

    delete_old_raw_events_task.call()
    kept = dict(DailyAccountRollup.objects.filter(account=account).values_list("day", "people_kept"))
    assert sorted(kept.values()) == [False, True, True]  # 10 days ago is past PEOPLE_KEPT_DAYS
    assert set(RollupPerson.objects.values_list("day", flat=True)) == {d for d, k in kept.items() if k}
    assert sum(DailyAccountRollup.objects.values_list("events", flat=True)) == 3


def test_a_batch_notes_one_pending_row_per_account_and_day():
    for name in ("a", "b"):
        Account.objects.create(name=name.upper(), external_id=name)
    source = create_source(name="Two accounts", actor=None)
    ingest(
        source=source,
        payloads=[
            track(f"t{i}", f"u{i % 7}", "ab"[i % 2], ("E", "F")[i % 3 == 0], days_ago=i % 2)
            for i in range(40)
        ],
    )
    # Two accounts, each on its own day: two rows, each holding every (event, person, count) it adds.
    assert PendingRollup.objects.count() == 2
    assert rollups.backlog()[0] == 40
    rollups.refresh_pending()
    added = snapshot()
    rollups.rebuild()
    assert snapshot() == added and sum(r[2] for r in added[1]) == 40


def test_pending_rows_of_the_earlier_form_are_still_added():
    # A row per (account, day, event, person), as ingestion wrote them before `adds`: an upgrade may
    # find some waiting.
    account = Account.objects.create(name="Acme", external_id="acme")
    day = rollups.day_of(NOW)
    PendingRollup.objects.create(account=account, day=day, event="Export", person="u1", events=2)
    PendingRollup.objects.create(account=account, day=day, event="Export", person="u2", events=1)
    assert rollups.refresh_pending() == 1
    rollup = DailyEventRollup.objects.get(account=account, day=day, event="Export")
    assert (rollup.events, rollup.users) == (3, 2)
    assert DailyAccountRollup.objects.get(account=account, day=day).active_users == 2
