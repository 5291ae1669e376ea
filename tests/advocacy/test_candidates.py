from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.advocacy.helpers import answered, grade, promoted
from tests.events.test_events import settle
from tests.factories import AccountFactory, ContactFactory, SubscriptionFactory
from touchpoint.advocacy import consumer, selectors, services
from touchpoint.advocacy.models import AdvocacySettings, Candidate

pytestmark = pytest.mark.django_db


# The consumer reads committed events only (on PostgreSQL, settled ones).
@pytest.mark.django_db(transaction=True)
def test_a_promoter_becomes_a_candidate_and_a_later_detractor_answer_removes_it(account):
    contact = ContactFactory(account=account)
    answered(contact, 10, answer_id=7)
    assert _follow() == 1
    candidate = Candidate.objects.get(contact=contact)
    assert candidate.is_candidate and candidate.nps_score == 10 and candidate.answer_id == 7
    assert candidate.source == "survey" and candidate.category == "promoter"
    answered(contact, 4, answer_id=8)
    _follow()
    candidate.refresh_from_db()
    assert not candidate.is_candidate and candidate.nps_score == 4 and candidate.answer_id == 8


# The consumer reads committed events only (on PostgreSQL, settled ones).
@pytest.mark.django_db(transaction=True)
def test_a_passive_answer_also_removes_the_candidate_and_a_new_promoter_answer_restores_it(account):
    contact = ContactFactory(account=account)
    answered(contact, 9)
    answered(contact, 8)
    _follow()
    assert not Candidate.objects.get(contact=contact).is_candidate
    answered(contact, 9, answer_id=3)
    _follow()
    assert Candidate.objects.get(contact=contact).is_candidate


# The consumer reads committed events only (on PostgreSQL, settled ones).
@pytest.mark.django_db(transaction=True)
def test_csat_answers_answers_without_a_contact_and_passive_strangers_make_no_candidate(account):
    contact = ContactFactory(account=account)
    answered(contact, 5, kind="csat", category="")
    answered(None, 10)
    answered(contact, 7)
    assert _follow() == 3
    assert not Candidate.objects.exists()


# The consumer reads committed events only (on PostgreSQL, settled ones).
@pytest.mark.django_db(transaction=True)
def test_each_answer_is_applied_once(account):
    contact = ContactFactory(account=account)
    answered(contact, 10)
    assert _follow() == 1
    assert _follow() == 0
    assert Candidate.objects.count() == 1


def test_the_consumer_is_a_poller_of_every_worker():
    from touchpoint.scheduler.registry import registered_pollers

    assert "advocacy.candidates" in [poller.name for poller in registered_pollers()]


def _follow() -> int:
    settle()  # PostgreSQL: every event recorded so far can be handed out
    return consumer.follow_survey_answers()


def _promoter(account, score=10, *, days_ago=0):
    contact = ContactFactory(account=account)
    promoted(contact, score, at=timezone.now() - timedelta(days=days_ago))
    return contact


def test_the_pool_holds_promoters_at_green_accounts_not_asked_recently(csm):
    green, red = AccountFactory(owner=csm), AccountFactory(owner=csm)
    grade(green, "red", day=timezone.localdate() - timedelta(days=3))
    grade(green, "green")  # the latest grade counts
    grade(red, "red")
    ok = _promoter(green)
    asked_lately = _promoter(green)
    asked_long_ago = _promoter(green)
    _promoter(red)
    passive = ContactFactory(account=green)
    promoted(passive, 10)
    promoted(passive, 8)
    by_hand = ContactFactory(account=green)
    services.mark_candidate(contact=by_hand, actor=csm)
    services.ask(
        contact=asked_lately, kind="review", actor=csm, asked_on=timezone.localdate() - timedelta(days=10)
    )
    services.ask(
        contact=asked_long_ago, kind="review", actor=csm, asked_on=timezone.localdate() - timedelta(days=200)
    )
    found = {candidate.contact_id for candidate in selectors.pool(csm)}
    assert found == {ok.pk, asked_long_ago.pk, by_hand.pk}
    AdvocacySettings(pool_quiet_days=5).save()
    assert asked_lately.pk in {candidate.contact_id for candidate in selectors.pool(csm)}


def test_the_pool_puts_recent_scores_first_then_the_largest_accounts(csm):
    small, large = AccountFactory(owner=csm), AccountFactory(owner=csm)
    for account in (small, large):
        grade(account, "green")
    SubscriptionFactory(account=small, mrr=Decimal("100"))
    SubscriptionFactory(account=large, mrr=Decimal("9000"))
    older = _promoter(large, days_ago=30)
    at_small = _promoter(small)
    at_large = _promoter(large)
    rows = list(selectors.pool(csm))
    assert [row.contact_id for row in rows] == [at_large.pk, at_small.pk, older.pk]
    assert rows[0].arr == Decimal("108000")


def test_the_pool_page_costs_a_fixed_number_of_queries(csm, django_assert_max_num_queries):
    from tests.conftest import logged_in_client

    for _ in range(3):
        account = AccountFactory(owner=csm)
        grade(account, "green")
        for _contact in range(3):
            _promoter(account)
    client = logged_in_client(csm)
    with django_assert_max_num_queries(12):
        response = client.get("/advocacy/pool/")
    assert response.status_code == 200
    assert response.content.count(b'id="candidate-') == 9


def test_the_demo_applies_the_survey_steps_answers_in_its_own_transaction(account):
    from touchpoint.advocacy.demo import candidates_from_survey_answers
    from touchpoint.events.models import ConsumerPosition

    promoter, detractor = ContactFactory(account=account), ContactFactory(account=account)
    answered(promoter, 10, answer_id=1)
    answered(detractor, 10, answer_id=2)
    answered(detractor, 3, answer_id=3)
    assert candidates_from_survey_answers() == 3
    assert set(Candidate.objects.filter(is_candidate=True).values_list("contact_id", flat=True)) == {
        promoter.pk
    }
    assert ConsumerPosition.objects.filter(name=consumer.CONSUMER).exists()
