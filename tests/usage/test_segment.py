"""The Segment message reader: properties that must always hold."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from touchpoint.usage.segment import MessageError, corrected_timestamp, parse_message, parse_time

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=10,
)
message_keys = st.sampled_from(
    [
        "type",
        "messageId",
        "userId",
        "anonymousId",
        "event",
        "groupId",
        "previousId",
        "timestamp",
        "sentAt",
        "properties",
        "traits",
        "context",
        "name",
    ]
)


@given(st.dictionaries(message_keys, json_values, max_size=8) | json_values)
def test_any_json_either_parses_or_names_the_field(payload):
    try:
        message = parse_message(payload, received_at=NOW)
    except MessageError as error:
        assert isinstance(error.field, str) and error.message
    else:
        assert message.message_id and message.type in (
            "identify",
            "group",
            "track",
            "page",
            "screen",
            "alias",
        )


@given(
    skew=st.timedeltas(min_value=timedelta(days=-30), max_value=timedelta(days=30)),
    delay=st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=6)),
)
def test_clock_skew_is_removed(skew, delay):
    """A client clock `skew` off records an event `delay` before sending: we recover the true time."""
    true_time = NOW - delay
    corrected = corrected_timestamp(timestamp=true_time + skew, sent_at=NOW + skew, received_at=NOW)
    assert corrected == true_time


def test_without_sent_at_the_timestamp_is_taken_as_is_and_without_both_it_is_now():
    moment = NOW - timedelta(hours=1)
    assert corrected_timestamp(timestamp=moment, sent_at=None, received_at=NOW) == moment
    assert corrected_timestamp(timestamp=None, sent_at=None, received_at=NOW) == NOW


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"type": "track", "userId": "u1", "event": "Clicked"}, "messageId"),
        ({"type": "track", "messageId": "m", "event": "Clicked"}, "userId"),
        ({"type": "track", "messageId": "m", "userId": "u1"}, "event"),
        ({"type": "group", "messageId": "m", "userId": "u1"}, "groupId"),
        ({"type": "alias", "messageId": "m", "userId": "u1"}, "previousId"),
        ({"type": "shout", "messageId": "m", "userId": "u1"}, "type"),
        (
            {"type": "track", "messageId": "m", "userId": "u1", "event": "x", "timestamp": "yesterday"},
            "timestamp",
        ),
        (
            {
                "type": "track",
                "messageId": "m",
                "userId": "u1",
                "event": "x",
                "timestamp": "2026-01-01T10:00:00",
            },
            "timestamp",
        ),
        ({"type": "track", "messageId": "m", "userId": "u1", "event": "x", "properties": [1]}, "properties"),
        ({"type": "track", "messageId": "m", "userId": {"id": 1}, "event": "x"}, "userId"),
    ],
)
def test_bad_messages_name_the_field(payload, field):
    with pytest.raises(MessageError) as error:
        parse_message(payload, received_at=NOW)
    assert error.value.field == field


def test_group_id_may_come_in_the_context_and_numbers_are_ids():
    message = parse_message(
        {
            "type": "track",
            "messageId": 7,
            "userId": 42,
            "event": "Report created",
            "context": {"groupId": "acme"},
        },
        received_at=NOW,
    )
    assert (message.message_id, message.user_id, message.group_id) == ("7", "42", "acme")


def test_zulu_and_offset_times_are_read():
    assert parse_time("2026-05-01T10:00:00Z", "t") == datetime(2026, 5, 1, 10, tzinfo=UTC)
    assert parse_time("2026-05-01T19:00:00+09:00", "t") == datetime(2026, 5, 1, 10, tzinfo=UTC)
