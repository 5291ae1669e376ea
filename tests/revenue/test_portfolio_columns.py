"""ARR and the next renewal: portfolio columns (sorted in SQL), CSV columns and account-header facts."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import AccountFactory, SubscriptionFactory
from touchpoint.accounts import selectors
from touchpoint.accounts.selectors import PortfolioFilter
from touchpoint.revenue.models import ExchangeRate

pytestmark = pytest.mark.django_db


def _rows(csm_client, **params):
    return list(csm_client.get(reverse("portfolio"), {"book": "all", **params}).context["page"].object_list)


def test_arr_is_live_mrr_times_twelve_in_the_reporting_currency(csm, settings):
    settings.TOUCHPOINT_CURRENCY = "USD"
    ExchangeRate.objects.create(currency="EUR", rate=Decimal("1.10"))
    account = AccountFactory(owner=csm)
    SubscriptionFactory(account=account, mrr=Decimal("1000"), currency="USD", status="active")
    SubscriptionFactory(account=account, mrr=Decimal("100"), currency="EUR", status="past_due")
    SubscriptionFactory(account=account, mrr=Decimal("5000"), currency="USD", status="canceled")
    SubscriptionFactory(account=account, mrr=Decimal("7000"), currency="USD", status="trialing")
    # No rate for GBP yet: left out, as the renewals list cannot convert it either.
    SubscriptionFactory(account=account, mrr=Decimal("300"), currency="GBP", status="active")
    row = selectors.portfolio(PortfolioFilter(), reader=csm).get(pk=account.pk)
    assert row.arr == pytest.approx(Decimal("13320.00"))  # 1000 × 12 + 100 × 1.1 × 12


def test_account_without_live_subscriptions_has_no_arr_and_no_renewal(csm):
    account = AccountFactory(owner=csm)
    SubscriptionFactory(account=account, status="canceled", renewal_date=timezone.localdate())
    row = selectors.portfolio(PortfolioFilter(), reader=csm).get(pk=account.pk)
    assert row.arr is None and row.next_renewal is None


def test_sorting_by_arr_puts_accounts_without_revenue_last_both_ways(csm_client, csm):
    small, big, none = (AccountFactory(owner=csm, name=n) for n in ("small", "big", "none"))
    SubscriptionFactory(account=small, mrr=Decimal("10"))
    SubscriptionFactory(account=big, mrr=Decimal("900"))
    SubscriptionFactory(account=big, mrr=Decimal("200"))
    assert [a.name for a in _rows(csm_client, sort="arr")] == ["small", "big", "none"]
    assert [a.name for a in _rows(csm_client, sort="-arr")] == ["big", "small", "none"]


def test_next_renewal_is_the_earliest_live_renewal_and_an_overdue_one_says_so(csm_client, csm):
    today = timezone.localdate()
    soon, late, never = (AccountFactory(owner=csm, name=n) for n in ("soon", "late", "never"))
    SubscriptionFactory(account=soon, renewal_date=today + timedelta(days=40))
    SubscriptionFactory(account=soon, renewal_date=today + timedelta(days=10))
    SubscriptionFactory(account=soon, renewal_date=today + timedelta(days=2), status="canceled")
    SubscriptionFactory(account=late, renewal_date=today - timedelta(days=3))
    rows = _rows(csm_client, sort="renewal")
    assert [a.name for a in rows] == ["late", "soon", "never"]
    assert rows[1].next_renewal == today + timedelta(days=10)
    assert [a.name for a in _rows(csm_client, sort="-renewal")] == ["soon", "late", "never"]
    page = csm_client.get(reverse("portfolio"), {"sort": "renewal"}).content.decode()
    assert page.count("data-overdue") == 1


def test_arr_and_renewal_cells_and_csv_columns(csm_client, csm, settings):
    settings.TOUCHPOINT_CURRENCY = "EUR"
    account = AccountFactory(owner=csm, name="Initech")
    renews = timezone.localdate() + timedelta(days=30)
    SubscriptionFactory(account=account, mrr=Decimal("1234.50"), currency="EUR", renewal_date=renews)
    page = csm_client.get(reverse("portfolio")).content.decode()
    assert 'data-column="arr"' in page and "14,814" in page and "EUR" in page
    response = csm_client.get(reverse("portfolio-export"))
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    row = next(csv.DictReader(io.StringIO(text)))
    assert row["arr"] == "14814.00" and row["arr_currency"] == "EUR"
    assert row["next_renewal"] == renews.isoformat()


@pytest.mark.parametrize("count", [5, 50])
def test_portfolio_queries_do_not_grow_with_subscriptions(csm_client, csm, count, django_assert_num_queries):
    for index in range(count):
        account = AccountFactory(owner=csm)
        SubscriptionFactory(account=account, renewal_date=timezone.localdate() + timedelta(days=index))
    # The same count at 5 and 50 rows: the columns are subqueries of the page's one row query.
    # 15 whatever the rows: see tests/accounts/test_views.py::test_portfolio_query_count_does_not_grow_with_accounts.
    with django_assert_num_queries(15):
        response = csm_client.get(reverse("portfolio"), {"sort": "arr"})
    assert len(response.context["page"].object_list) == count


def test_header_shows_arr_with_currency_and_days_to_renewal(csm_client, csm, settings):
    settings.TOUCHPOINT_CURRENCY = "USD"
    account = AccountFactory(owner=csm)
    SubscriptionFactory(
        account=account, mrr=Decimal("500"), renewal_date=timezone.localdate() + timedelta(days=12)
    )
    page = csm_client.get(reverse("account-detail", args=[account.pk])).content.decode()
    assert 'id="arr-fact">6,000 USD' in page
    assert "in 12 days" in page


def test_header_says_how_long_a_renewal_is_overdue(csm_client, csm):
    account = AccountFactory(owner=csm)
    SubscriptionFactory(account=account, renewal_date=timezone.localdate() - timedelta(days=5))
    page = csm_client.get(reverse("account-detail", args=[account.pk])).content.decode()
    assert "overdue by 5 days" in page


def test_api_account_list_sorts_by_arr_and_renewal(api, csm):
    small, big = AccountFactory(owner=csm, name="small"), AccountFactory(owner=csm, name="big")
    SubscriptionFactory(
        account=small, mrr=Decimal("10"), renewal_date=timezone.localdate() + timedelta(days=5)
    )
    SubscriptionFactory(
        account=big, mrr=Decimal("900"), renewal_date=timezone.localdate() + timedelta(days=50)
    )
    assert [a["name"] for a in api.get("/accounts", order="-arr").json()["items"]] == ["big", "small"]
    assert [a["name"] for a in api.get("/accounts", order="renewal").json()["items"]] == ["small", "big"]
    assert api.get("/accounts", order="-last_touch").status_code == 200
