"""/v1/batch under odd input: a message that cannot be stored is refused by itself, the rest are kept,
and the batch never answers 500 (one bad message used to lose the whole batch)."""

from __future__ import annotations

import base64
import json

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from touchpoint.accounts.models import Contact
from touchpoint.usage.models import RawEvent
from touchpoint.usage.services import create_source

pytestmark = pytest.mark.django_db


@pytest.fixture
def source():
    return create_source(name="Web app", actor=None)


def post_batch(source, batch: list, **extra) -> tuple[int, dict]:
    key = base64.b64encode(f"{source.write_key}:".encode()).decode()
    # json, not orjson: it writes what orjson refuses to (300 levels, integers past 64 bits).
    body = json.dumps({"batch": batch, **extra}).encode()
    response = Client().post(
        "/v1/batch", body, content_type="application/json", HTTP_AUTHORIZATION=f"Basic {key}"
    )
    return response.status_code, response.json()


def good(message_id: str) -> dict:
    return {"type": "track", "messageId": message_id, "userId": "u1", "event": "Report created"}


def nested(levels: int) -> dict:
    value: dict = {}
    for _ in range(levels):
        value = {"a": value}
    return value


ODD = {
    "timestamp in year 1": ({"timestamp": "0001-01-01T00:00:00+05:00"}, "timestamp"),
    "timestamp in year 9999": ({"timestamp": "9999-12-31T23:59:59-05:00"}, "timestamp"),
    "garbage timestamp": ({"timestamp": "yesterday-ish"}, "timestamp"),
    "sentAt in year 9999": (
        {"timestamp": "2026-01-01T00:00:00Z", "sentAt": "9999-12-31T23:59:59Z"},
        "sentAt",
    ),
    "sentAt in year 1": ({"timestamp": "9999-12-31T00:00:00Z", "sentAt": "0001-01-01T00:00:00Z"}, "sentAt"),
    "properties 300 levels deep": ({"properties": nested(300)}, "properties"),
    "context 300 levels deep": ({"context": nested(300)}, "context"),
    "NUL in an event name": ({"event": "Report\x00created"}, "event"),
    "NUL in a property": ({"properties": {"plan": "pro\x00"}}, "properties"),
    "NUL in a user id": ({"userId": "u\x001"}, "userId"),
}


@pytest.mark.parametrize("odd", ODD.values(), ids=ODD.keys())
def test_an_odd_message_is_refused_by_itself_and_the_good_ones_kept(source, odd):
    changes, field = odd
    status, answer = post_batch(source, [good("m1"), {**good("bad"), **changes}, good("m2")])
    assert status == 200, answer
    assert answer["accepted"] == 2
    assert [(r["index"], r["messageId"], r["field"]) for r in answer["rejected"]] == [(1, "bad", field)]
    assert set(RawEvent.objects.values_list("message_id", flat=True)) == {"m1", "m2"}


def test_huge_integers_in_properties_are_kept_as_numbers(source):
    status, answer = post_batch(source, [{**good("m1"), "properties": {"seats": 10**30, "small": -(2**63)}}])
    assert (status, answer["accepted"]) == (200, 1), answer
    assert RawEvent.objects.get().properties["small"] == -(2**63)


def test_a_group_id_longer_than_an_external_id_is_refused_by_itself(source):
    group = {"type": "group", "messageId": "g", "userId": "u1", "groupId": "x" * 129}
    status, answer = post_batch(source, [group, good("m1")])
    assert (status, answer["accepted"]) == (200, 1), answer
    assert answer["rejected"][0]["field"] == "groupId"


def test_a_contact_named_by_a_long_email_is_cut_to_the_name_column(source):
    email = "b" * 64 + "@" + ("c" * 60 + ".") * 3 + "com"  # valid, 251 characters: the name column has 200
    batch = [
        {"type": "identify", "messageId": "i", "userId": "u1", "traits": {"email": email}},
        {"type": "group", "messageId": "g", "userId": "u1", "groupId": "acme", "traits": {"name": "Acme"}},
    ]
    status, answer = post_batch(source, batch)
    assert (status, answer.get("accepted")) == (200, 2), answer
    assert Contact.objects.get().name == email[:200]


def test_a_garbage_batch_sent_at_is_400_naming_it(source):
    status, answer = post_batch(source, [good("m1")], sentAt="not a time")
    assert status == 400 and answer["errors"][0]["field"] == "sentAt"


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=10,
)
times = st.one_of(
    st.none(),
    st.text(max_size=30),
    st.datetimes().map(lambda d: d.isoformat() + "Z"),
    st.sampled_from(["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00", "2026-05-01T10:00:00Z"]),
)
messages = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["track", "identify", "group", "page", "screen", "alias", "bogus"]),
        "messageId": st.one_of(st.text(min_size=1, max_size=10), st.integers()),
        "userId": st.one_of(st.text(max_size=140), st.integers(), st.none()),
    },
    optional={
        "event": st.one_of(st.text(max_size=30), st.integers()),
        "groupId": st.text(max_size=140),
        "previousId": st.text(max_size=10),
        "anonymousId": st.text(max_size=10),
        "timestamp": times,
        "sentAt": times,
        "properties": st.one_of(json_values, st.just(nested(260))),
        "traits": st.dictionaries(
            st.sampled_from(["name", "email", "website", "plan"]), json_values, max_size=3
        ),
        "context": st.one_of(json_values, st.dictionaries(st.just("groupId"), st.text(max_size=10))),
    },
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batch=st.lists(messages, max_size=6), sent_at=times)
def test_the_batch_endpoint_never_answers_500(source, batch, sent_at):
    status, answer = post_batch(source, batch, sentAt=sent_at)
    assert status in (200, 400), answer
    if status == 200:
        assert answer["accepted"] + answer["duplicates"] + len(answer.get("rejected", [])) == len(batch)


@pytest.mark.parametrize(
    "path", ["/v1/track", "/v1/identify", "/v1/group", "/v1/page", "/v1/screen", "/v1/alias"]
)
def test_a_single_message_endpoint_refuses_odd_input_with_400_naming_the_field(source, path):
    key = base64.b64encode(f"{source.write_key}:".encode()).decode()
    message = {
        "messageId": "m1",
        "userId": "u1",
        "previousId": "u0",
        "groupId": "g1",
        "event": "Report created",
        "timestamp": "2026-01-01T00:00:00Z",
        "sentAt": "9999-12-31T23:59:59Z",
    }
    body = json.dumps(message).encode()
    response = Client().post(path, body, content_type="application/json", HTTP_AUTHORIZATION=f"Basic {key}")
    assert response.status_code == 400, response.content
    assert response.json()["errors"][0]["field"] == "sentAt"
    assert not RawEvent.objects.exists()
