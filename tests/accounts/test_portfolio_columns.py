"""Days since the last human touch (a portfolio column sorted in SQL) and the header's key people."""

import csv
import io
from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import AccountFactory, ContactFactory
from touchpoint.accounts import services

pytestmark = pytest.mark.django_db


def _touch(account, actor, days_ago, kind="call"):
    services.log_engagement(
        account=account,
        actor=actor,
        kind=kind,
        subject="Checked in",
        occurred_at=timezone.now() - timedelta(days=days_ago),
    )


def test_days_since_last_touch_counts_only_human_touches(csm_client, csm):
    account = AccountFactory(owner=csm, name="Touched")
    _touch(account, csm, 9)
    _touch(account, csm, 4, kind="note")
    # Changing the account is on the timeline but is not a touch.
    services.update_account(account=account, actor=csm, domain="touched.example")
    page = csm_client.get(reverse("portfolio")).content.decode()
    assert 'data-days="4"' in page
    assert 'data-column="last_touch"' in page


def test_sorting_by_last_touch_puts_the_most_neglected_first_when_descending(csm_client, csm):
    recent, old, never = (AccountFactory(owner=csm, name=n) for n in ("recent", "old", "never"))
    _touch(recent, csm, 1)
    _touch(old, csm, 60)
    ascending = csm_client.get(reverse("portfolio"), {"sort": "last_touch"}).context["page"].object_list
    assert [a.name for a in ascending] == ["recent", "old", "never"]
    descending = csm_client.get(reverse("portfolio"), {"sort": "-last_touch"}).context["page"].object_list
    assert [a.name for a in descending] == ["never", "old", "recent"]


def test_csv_has_the_last_touch(csm_client, csm):
    account = AccountFactory(owner=csm)
    _touch(account, csm, 2)
    text = b"".join(csm_client.get(reverse("portfolio-export")).streaming_content).decode("utf-8-sig")
    row = next(csv.DictReader(io.StringIO(text)))
    touched = datetime.fromisoformat(row["last_touch_at"])
    assert abs(touched - (timezone.now() - timedelta(days=2))) < timedelta(minutes=1)


@pytest.mark.parametrize("count", [5, 50])
def test_portfolio_query_count_is_the_same_at_5_and_50_touched_accounts(
    csm_client, csm, count, django_assert_num_queries
):
    for _ in range(count):
        account = AccountFactory(owner=csm)
        _touch(account, csm, 3)
    # 15 whatever the rows: see tests/accounts/test_views.py::test_portfolio_query_count_does_not_grow_with_accounts.
    with django_assert_num_queries(15):
        response = csm_client.get(reverse("portfolio"), {"sort": "-last_touch"})
    assert len(response.context["page"].object_list) == count


def test_header_names_champions_and_decision_makers(csm_client, csm):
    account = AccountFactory(owner=csm)
    ContactFactory(account=account, name="Ada Champion", roles=["champion", "user"])
    ContactFactory(account=account, name="Dan Decider", roles=["decision_maker"])
    ContactFactory(account=account, name="Una User", roles=["user"])
    ContactFactory(account=AccountFactory(owner=csm), name="Elsewhere Champion", roles=["champion"])
    page = csm_client.get(reverse("account-detail", args=[account.pk])).content.decode()
    key_people = page[page.index('id="key-people"') :]
    key_people = key_people[: key_people.index("</div>")]
    assert "Ada Champion" in key_people and "Dan Decider" in key_people
    assert "Una User" not in key_people and "Elsewhere" not in key_people


def test_header_without_key_people_says_so(csm_client, csm):
    page = csm_client.get(reverse("account-detail", args=[AccountFactory(owner=csm).pk])).content.decode()
    assert "No champion or decision maker yet" in page


@pytest.mark.parametrize("count", [1, 20])
def test_account_page_queries_do_not_grow_with_key_people(csm_client, csm, count, django_assert_num_queries):
    account = AccountFactory(owner=csm)
    for _ in range(count):
        ContactFactory(account=account, roles=["champion", "decision_maker"])
    with django_assert_num_queries(17):
        csm_client.get(reverse("account-detail", args=[account.pk]))
