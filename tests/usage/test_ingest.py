"""The tracking API over HTTP: auth as Segment clients send it, semantics, idempotency, bad input."""

import base64
import gzip

import orjson
import pytest
from django.test import Client

from tests.factories import AccountFactory
from touchpoint.accounts.models import Account, Contact, TimelineEntry
from touchpoint.usage.models import ProductUser, RawEvent
from touchpoint.usage.services import create_source

pytestmark = pytest.mark.django_db


@pytest.fixture
def source():
    return create_source(name="Web app", actor=None)


def post(path, body, *, key=None, raw=None, gzipped=False):
    data = raw if raw is not None else orjson.dumps(body)
    headers = {}
    if key is not None:
        headers["HTTP_AUTHORIZATION"] = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    if gzipped:
        data = gzip.compress(data)
        headers["HTTP_CONTENT_ENCODING"] = "gzip"
    return Client().post(path, data, content_type="application/json", **headers)


def track(message_id, user="u1", event="Report created", **extra):
    return {"type": "track", "messageId": message_id, "userId": user, "event": event, **extra}


def test_track_with_basic_auth_is_stored(source):
    response = post("/v1/track", track("m1", properties={"plan": "pro"}), key=source.write_key)
    assert response.status_code == 200 and response.json()["success"] is True
    event = RawEvent.objects.get()
    assert (event.type, event.event, event.user_id, event.properties) == (
        "track",
        "Report created",
        "u1",
        {"plan": "pro"},
    )


def test_write_key_in_the_body_works_too(source):
    assert post("/v1/track", {**track("m1"), "writeKey": source.write_key}).status_code == 200


@pytest.mark.parametrize("key", [None, "wrong-key"])
def test_unknown_or_missing_write_key_is_401_and_stores_nothing(source, key):
    response = post("/v1/track", track("m1"), key=key)
    assert response.status_code == 401 and response.json()["detail"]
    assert not RawEvent.objects.exists()


def test_a_replayed_batch_adds_nothing(source):
    batch = {"batch": [track(f"m{i}") for i in range(5)]}
    first = post("/v1/batch", batch, key=source.write_key).json()
    again = post("/v1/batch", batch, key=source.write_key).json()
    assert (first["accepted"], again["accepted"], again["duplicates"]) == (5, 0, 5)
    assert RawEvent.objects.count() == 5


def test_the_same_message_id_twice_in_one_batch_counts_once(source):
    body = post("/v1/batch", {"batch": [track("same"), track("same")]}, key=source.write_key).json()
    assert (body["accepted"], body["duplicates"]) == (1, 1)


def test_message_ids_are_per_source(source):
    other = create_source(name="Mobile", actor=None)
    post("/v1/track", track("m1"), key=source.write_key)
    post("/v1/track", track("m1"), key=other.write_key)
    assert RawEvent.objects.count() == 2


def test_gzip_bodies_are_accepted(source):
    response = post("/v1/batch", {"batch": [track("g1")]}, key=source.write_key, gzipped=True)
    assert response.status_code == 200 and RawEvent.objects.count() == 1


def test_identify_then_group_makes_the_account_and_contact_and_attaches_earlier_events(source):
    key = source.write_key
    post(
        "/v1/identify",
        {"messageId": "i1", "userId": "u1", "traits": {"email": "Mika@Acme.example", "name": "Mika Sato"}},
        key=key,
    )
    post("/v1/track", track("t1"), key=key)
    assert RawEvent.objects.get(message_id="t1").account is None  # not grouped yet: kept, not lost
    post(
        "/v1/group",
        {
            "messageId": "g1",
            "userId": "u1",
            "groupId": "acme",
            "traits": {"name": "Acme Rockets", "website": "https://www.acme.example"},
        },
        key=key,
    )
    account = Account.objects.get(external_id="acme")
    assert (account.name, account.domain) == ("Acme Rockets", "acme.example")
    contact = Contact.objects.get(external_id="u1")
    assert (contact.account, contact.name, contact.email) == (account, "Mika Sato", "mika@acme.example")
    assert contact.role_values == ["user"]
    early = RawEvent.objects.get(message_id="t1")
    assert (early.account, early.contact) == (account, contact)
    post("/v1/track", track("t2"), key=key)
    assert RawEvent.objects.get(message_id="t2").account == account
    assert TimelineEntry.objects.filter(account=account, kind="contact_added").exists()


def test_context_group_id_puts_an_event_on_that_account(source):
    account = AccountFactory(external_id="globex")
    post(
        "/v1/page",
        {"messageId": "p1", "anonymousId": "anon-1", "name": "Pricing", "context": {"groupId": "globex"}},
        key=source.write_key,
    )
    event = RawEvent.objects.get()
    assert (event.type, event.event, event.account) == ("page", "Pricing", account)


def test_alias_merges_an_anonymous_visitor_into_the_user(source):
    key = source.write_key
    post("/v1/page", {"messageId": "p1", "anonymousId": "anon-7", "name": "Home"}, key=key)
    post("/v1/alias", {"messageId": "a1", "previousId": "anon-7", "userId": "u7"}, key=key)
    assert RawEvent.objects.get(message_id="p1").user_id == "u7"
    assert ProductUser.objects.filter(user_id="u7").exists()


def test_clock_skew_is_corrected_from_sent_at(source):
    post(
        "/v1/batch",
        {"sentAt": "2000-01-01T00:10:00Z", "batch": [track("s1", timestamp="2000-01-01T00:00:00Z")]},
        key=source.write_key,
    )
    event = RawEvent.objects.get()
    delta = event.received_at - event.timestamp
    assert 599 <= delta.total_seconds() <= 601


def test_one_bad_event_does_not_lose_the_good_ones(source):
    body = post(
        "/v1/batch",
        {"batch": [track("ok1"), {"type": "track", "userId": "u1"}, track("ok2")]},
        key=source.write_key,
    ).json()
    assert body["accepted"] == 2
    assert body["rejected"] == [
        {"index": 1, "messageId": "", "field": "messageId", "message": body["rejected"][0]["message"]}
    ]
    assert set(RawEvent.objects.values_list("message_id", flat=True)) == {"ok1", "ok2"}


@pytest.mark.parametrize(
    ("path", "raw", "status"),
    [
        ("/v1/track", b"{not json", 400),
        ("/v1/track", b"[1,2]", 400),
        ("/v1/batch", b'{"batch": "nope"}', 400),
        ("/v1/track", orjson.dumps({"messageId": "m", "userId": "u"}), 400),
    ],
)
def test_malformed_requests_are_4xx_with_a_reason(source, path, raw, status):
    response = post(path, None, key=source.write_key, raw=raw)
    assert response.status_code == status
    assert response.json()["detail"]
    assert not RawEvent.objects.exists()


def test_an_event_over_32_kb_is_refused_by_name_and_the_rest_kept(source):
    big = track("big", properties={"blob": "x" * 33_000})
    assert post("/v1/track", big, key=source.write_key).status_code == 413
    body = post("/v1/batch", {"batch": [track("small"), big]}, key=source.write_key).json()
    assert (
        body["accepted"] == 1
        and body["rejected"][0]["index"] == 1
        and body["rejected"][0]["messageId"] == "big"
    )
    # Indexes of the other rejections still point into the batch as sent, past the oversized one.
    body = post(
        "/v1/batch", {"batch": [big, track("ok"), track("no-name", event="")]}, key=source.write_key
    ).json()
    assert body["accepted"] == 1
    assert [(r["index"], r["messageId"], r["field"]) for r in body["rejected"]] == [
        (0, "big", ""),
        (2, "no-name", "event"),
    ]


def test_a_batch_over_500_kb_is_413_even_when_gzipped_small(source):
    batch = {"batch": [track(f"m{i}", properties={"blob": "y" * 20_000}) for i in range(30)]}
    response = post("/v1/batch", batch, key=source.write_key, gzipped=True)
    assert response.status_code == 413 and "500" in response.json()["detail"]
    assert not RawEvent.objects.exists()


def test_broken_gzip_is_400(source):
    response = Client().post(
        "/v1/track",
        b"not gzip at all",
        content_type="application/json",
        HTTP_CONTENT_ENCODING="gzip",
        HTTP_AUTHORIZATION="Basic " + base64.b64encode(f"{source.write_key}:".encode()).decode(),
    )
    assert response.status_code == 400


def test_get_is_not_allowed(source):
    assert Client().get("/v1/track").status_code == 405


def test_source_command_prints_the_write_key_last(capsys):
    from django.core.management import call_command

    call_command("source", "create", "Backend")
    key = capsys.readouterr().out.strip().splitlines()[-1]
    assert post("/v1/track", track("c1"), key=key).status_code == 200
