"""Conditions: the comparison operators as properties, and holds() over real data (fields, did, all/any/not)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.factories import AccountFactory, ContactFactory
from touchpoint.accounts.models import AccountTag
from touchpoint.journeys.conditions import UnknownField, compare, holds
from touchpoint.journeys.definition import AllOf, AnyOf, DidCondition, FieldCondition, NotOf
from touchpoint.journeys.interpreter import Subject
from touchpoint.usage.models import RawEvent, Source

OPS = ["eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "exists", "missing", "contains"]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(max_size=8),
    st.dates(),
)
values = st.one_of(scalars, st.lists(scalars, max_size=4))


@given(op=st.sampled_from(OPS), actual=values, expected=values)
def test_compare_never_raises_and_answers_a_bool(op, actual, expected):
    assert compare(op, actual, expected) in (True, False)


@given(op=st.sampled_from([op for op in OPS if op != "missing"]), expected=values)
def test_nothing_compares_true_with_a_missing_value_but_missing(op, expected):
    assert compare(op, None, expected) is False
    assert compare("missing", None, expected) is True


@given(a=st.integers(-1000, 1000) | st.floats(-1e6, 1e6), b=st.integers(-1000, 1000) | st.floats(-1e6, 1e6))
def test_number_operators_agree_with_python(a, b):
    assert compare("gt", a, b) == (a > b)
    assert compare("gte", a, b) == (a >= b)
    assert compare("lt", a, b) == (a < b)
    assert compare("lte", a, b) == (a <= b)
    assert compare("eq", a, b) == (a == b)
    assert compare("ne", a, b) == (a != b)
    # exactly one of <, =, > holds
    assert [compare("lt", a, b), compare("eq", a, b), compare("gt", a, b)].count(True) == 1


@given(a=st.dates(), b=st.dates())
def test_dates_compare_with_iso_text(a, b):
    assert compare("lt", a, b.isoformat()) == (a < b)
    assert compare("gte", a, b.isoformat()) == (a >= b)
    assert compare("eq", a, b.isoformat()) == (a == b)


@given(
    actual=st.lists(st.text(max_size=4), max_size=5),
    wanted=st.lists(st.text(max_size=4), min_size=1, max_size=3),
)
def test_list_operators(actual, wanted):
    assert compare("in", actual, wanted) == bool(set(actual) & set(wanted))
    assert compare("not_in", actual, wanted) == (not set(actual) & set(wanted))
    assert compare("contains", actual, wanted[0]) == (wanted[0] in actual)
    assert compare("eq", actual, wanted[0]) == (wanted[0] in actual)
    assert compare("gt", actual, wanted[0]) is False  # a list has no order


@given(actual=st.text(max_size=6), wanted=st.lists(st.text(max_size=6), max_size=4))
def test_in_and_not_in_are_opposites_for_a_present_value(actual, wanted):
    assert compare("in", actual, wanted) != compare("not_in", actual, wanted)


def test_odd_pairs_are_false_not_errors():
    assert compare("gt", "abc", 3) is False
    assert compare("eq", True, 1) is False  # a boolean is not a number
    assert compare("lt", date(2026, 1, 1), "not a date") is False
    assert compare("eq", "42", 42) is True  # a number written as text (a CSV attribute)
    assert compare("gt", "4.5", 4) is True
    assert compare("contains", "enterprise plan", "plan") is True
    assert compare("exists", "", None) is False
    assert compare("missing", [], None) is True


# --- holds() on real data -------------------------------------------------------------------------

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


@pytest.fixture
def account(db):
    return AccountFactory(engagement_model="low", attributes={"plan": "enterprise", "seats": "40"})


def test_fields_attributes_and_entry_data(account):
    AccountTag.objects.create(account=account, name="beta")
    subject = Subject(account.pk)
    assert holds(
        FieldCondition(field="account.engagement_model", op="eq", value="low_touch"), subject, NOW, {}
    )
    assert holds(
        FieldCondition(field="account.attributes.plan", op="eq", value="enterprise"), subject, NOW, {}
    )
    assert holds(FieldCondition(field="account.attributes.seats", op="gte", value=40), subject, NOW, {})
    assert holds(FieldCondition(field="account.attributes.nothing", op="missing"), subject, NOW, {})
    assert not holds(FieldCondition(field="account.attributes.nothing", op="ne", value="x"), subject, NOW, {})
    assert holds(FieldCondition(field="account.tags", op="contains", value="beta"), subject, NOW, {})
    entry = {"properties": {"plan": "pro", "items": [{"sku": "a"}]}}
    assert holds(FieldCondition(field="entry.properties.plan", op="eq", value="pro"), subject, NOW, entry)
    assert holds(
        FieldCondition(field="entry.properties.items.0.sku", op="eq", value="a"), subject, NOW, entry
    )
    assert holds(FieldCondition(field="entry.properties.missing.deeper", op="missing"), subject, NOW, entry)


def test_all_any_not(account):
    subject = Subject(account.pk)
    yes = FieldCondition(field="account.engagement_model", op="eq", value="low_touch")
    no = FieldCondition(field="account.engagement_model", op="eq", value="high_touch")
    assert holds(AllOf(all=[yes, yes]), subject, NOW, {})
    assert not holds(AllOf(all=[yes, no]), subject, NOW, {})
    assert holds(AnyOf(any=[no, yes]), subject, NOW, {})
    assert not holds(AnyOf(any=[no, no]), subject, NOW, {})
    assert holds(NotOf(**{"not": no}), subject, NOW, {})


def test_unknown_field_is_a_clear_error(account):
    with pytest.raises(UnknownField):
        holds(FieldCondition(field="account.nope", op="exists"), Subject(account.pk), NOW, {})


def _event(source, account, contact, name, at):
    return RawEvent(
        source=source,
        message_id=f"{name}-{at.isoformat()}-{contact.pk if contact else 0}",
        type="track",
        event=name,
        account=account,
        contact=contact,
        timestamp=at,
        day=at.date(),
    )


def test_did_counts_the_window_before_the_moment_for_the_account_or_the_person(account):
    source = Source.objects.create(name="Product")
    ann, bob = ContactFactory(account=account), ContactFactory(account=account)
    RawEvent.objects.bulk_create(
        [
            _event(source, account, ann, "Report created", NOW - timedelta(days=1)),
            _event(source, account, ann, "Report created", NOW - timedelta(days=3)),
            _event(source, account, bob, "Report created", NOW - timedelta(days=2)),
            _event(source, account, bob, "Report created", NOW - timedelta(days=40)),  # outside 30 days
            _event(source, account, bob, "Report created", NOW + timedelta(hours=1)),  # after the moment
            _event(source, account, bob, "Invite sent", NOW - timedelta(days=1)),
        ]
    )
    three = DidCondition(did="Report created", within_days=30, min_count=3)
    four = DidCondition(did="Report created", within_days=30, min_count=4)
    assert holds(three, Subject(account.pk), NOW, {})
    assert not holds(four, Subject(account.pk), NOW, {})
    assert holds(DidCondition(did="Report created", min_count=2), Subject(account.pk, ann.pk), NOW, {})
    assert not holds(DidCondition(did="Report created", min_count=2), Subject(account.pk, bob.pk), NOW, {})
    assert holds(
        DidCondition(did="Report created", within_days=60, min_count=2), Subject(account.pk, bob.pk), NOW, {}
    )
    # as of a moment in the past, the later events do not count yet
    assert not holds(DidCondition(did="Report created"), Subject(account.pk), NOW - timedelta(days=5), {})


def test_did_counts_a_persons_events_sent_under_their_product_user_id(account):
    from touchpoint.usage.models import ProductUser

    source = Source.objects.create(name="Product")
    ann = ContactFactory(account=account)
    ProductUser.objects.create(user_id="u-ann", account=account, contact=ann)
    unlinked = _event(source, account, None, "Report created", NOW - timedelta(days=1))
    unlinked.user_id = "u-ann"
    someone_else = _event(source, account, None, "Report created", NOW - timedelta(days=2))
    someone_else.user_id = "u-bob"
    RawEvent.objects.bulk_create([unlinked, someone_else])
    assert holds(DidCondition(did="Report created"), Subject(account.pk, ann.pk), NOW, {})
    assert not holds(DidCondition(did="Report created", min_count=2), Subject(account.pk, ann.pk), NOW, {})
