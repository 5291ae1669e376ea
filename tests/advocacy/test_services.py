from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import formats, timezone
from hypothesis import given
from hypothesis import strategies as st

from tests.factories import ContactFactory
from touchpoint.accounts.models import TimelineEntry
from touchpoint.advocacy import services
from touchpoint.advocacy.models import Activity, AdvocacySettings, Advocate, Ask, AskStatus, Reward
from touchpoint.events.models import DomainEvent
from touchpoint.users.models import AuditLogEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def contact(account):
    return ContactFactory(account=account, name="Ada Lovelace")


def test_an_ask_is_recorded_on_the_timeline_in_the_audit_log_and_as_an_event(contact, csm):
    the_ask = services.ask(contact=contact, kind="reference_call", actor=csm, note="For Acme's deal")
    assert the_ask.status == AskStatus.ASKED and the_ask.account_id == contact.account_id
    entry = TimelineEntry.objects.get(kind="advocacy_ask")
    assert entry.account_id == contact.account_id and entry.data["kind"] == "reference_call"
    assert AuditLogEntry.objects.filter(object_type="advocacy.ask", action="create").exists()
    assert DomainEvent.objects.filter(kind="advocacy.asked", subject_id=the_ask.pk).exists()


def test_a_done_ask_records_the_activity_and_makes_an_advocate(contact, csm):
    the_ask = services.ask(contact=contact, kind="review", actor=csm)
    services.change_ask(the_ask=the_ask, status="accepted", actor=csm)
    done = services.change_ask(
        the_ask=the_ask, status="done", actor=csm, outcome_note="Five stars", link="https://g2.com/r/1"
    )
    assert done.status == "done" and done.closed_on == timezone.localdate()
    activity = Activity.objects.get()
    assert (
        activity.ask_id == the_ask.pk and activity.kind == "review" and activity.link == "https://g2.com/r/1"
    )
    assert Advocate.objects.get().contact_id == contact.pk
    assert TimelineEntry.objects.filter(kind="advocacy_activity", account=contact.account).count() == 1
    assert DomainEvent.objects.filter(kind="advocacy.ask_changed").count() == 2


def test_done_and_declined_are_final(contact, csm):
    the_ask = services.ask(contact=contact, kind="review", actor=csm)
    services.change_ask(the_ask=the_ask, status="declined", actor=csm, outcome_note="Too busy")
    with pytest.raises(ValidationError) as refused:
        services.change_ask(the_ask=the_ask, status="done", actor=csm)
    assert "status" in refused.value.message_dict
    assert Activity.objects.count() == 0


def test_a_third_ask_in_a_quarter_is_refused_naming_the_limit_and_the_next_day(contact, csm):
    day = date(2026, 5, 10)
    services.ask(contact=contact, kind="review", actor=csm, asked_on=day - timedelta(days=20))
    services.ask(contact=contact, kind="case_study", actor=csm, asked_on=day)
    with pytest.raises(ValidationError) as refused:
        services.ask(contact=contact, kind="referral", actor=csm, asked_on=day)
    message = " ".join(refused.value.message_dict["contact"])
    assert (
        "limit of 2 asks per contact per quarter" in message
        and formats.date_format(date(2026, 7, 1), "DATE_FORMAT") in message
    )
    assert Ask.objects.count() == 2
    # The next quarter starts afresh.
    services.ask(contact=contact, kind="referral", actor=csm, asked_on=date(2026, 7, 1))


def test_the_quarter_limit_is_the_admin_setting(contact, csm):
    AdvocacySettings(max_asks_per_quarter=1).save()
    services.ask(contact=contact, kind="review", actor=csm, asked_on=date(2026, 2, 1))
    with pytest.raises(ValidationError, match="limit of 1 ask per"):
        services.ask(contact=contact, kind="review", actor=csm, asked_on=date(2026, 3, 31))


def test_declined_asks_count_toward_the_quarter(contact, csm):
    for _ in range(2):
        the_ask = services.ask(contact=contact, kind="review", actor=csm, asked_on=date(2026, 1, 5))
        services.change_ask(the_ask=the_ask, status="declined", actor=csm, on=date(2026, 1, 6))
    with pytest.raises(ValidationError):
        services.ask(contact=contact, kind="review", actor=csm, asked_on=date(2026, 1, 7))


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31)))
def test_a_day_falls_in_its_quarter_which_is_three_months_long(day):
    start, end = services.quarter_of(day)
    assert start <= day < end
    assert start.day == 1 and end.day == 1 and start.month in (1, 4, 7, 10)
    assert (end.year * 12 + end.month) - (start.year * 12 + start.month) == 3


def test_an_ask_in_the_future_or_of_an_unknown_kind_is_refused(contact, csm):
    with pytest.raises(ValidationError) as refused:
        services.ask(
            contact=contact, kind="review", actor=csm, asked_on=timezone.localdate() + timedelta(days=1)
        )
    assert "asked_on" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        services.ask(contact=contact, kind="bribe", actor=csm)
    assert "kind" in refused.value.message_dict


def test_a_reward_is_recorded_with_its_value_and_currency(contact, csm):
    advocate = services.add_advocate(contact=contact, actor=csm)
    reward = services.give_reward(advocate=advocate, kind="gift", value="49.9", currency="eur", actor=csm)
    assert reward.value == Decimal("49.90") and reward.currency == "EUR"
    entry = TimelineEntry.objects.get(kind="advocacy_reward")
    assert entry.data["value"] == "49.90"
    with pytest.raises(ValidationError) as refused:
        services.give_reward(advocate=advocate, kind="gift", value="-1", actor=csm)
    assert "value" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        services.give_reward(advocate=advocate, kind="gift", value="1", currency="EURO", actor=csm)
    assert "currency" in refused.value.message_dict
    assert Reward.objects.count() == 1


def test_a_contact_is_an_advocate_once(contact, csm):
    services.add_advocate(contact=contact, actor=csm)
    with pytest.raises(ValidationError) as refused:
        services.add_advocate(contact=contact, actor=csm)
    assert refused.value.error_dict["contact"][0].code == "unique"


def test_an_activity_by_hand_needs_a_web_link(contact, csm):
    advocate = services.add_advocate(contact=contact, actor=csm)
    with pytest.raises(ValidationError) as refused:
        services.record_activity(advocate=advocate, kind="speaking", actor=csm, link="javascript:alert(1)")
    assert "link" in refused.value.message_dict
    services.record_activity(
        advocate=advocate, kind="speaking", actor=csm, link="https://conf.example.com/talk"
    )
    assert advocate.activities.count() == 1


def test_marking_a_candidate_by_hand_and_unmarking(contact, csm):
    candidate = services.mark_candidate(contact=contact, actor=csm)
    assert candidate.is_candidate and candidate.source == "manual"
    assert services.unmark_candidate(contact=contact, actor=csm).is_candidate is False
    assert DomainEvent.objects.filter(kind="advocacy.candidate_changed").count() == 2
