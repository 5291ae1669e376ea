"""The renewal process on screen: the renewals page (stage, forecast, overdue list, forecast by
category), an opportunity's page and its forms, the account panel, the home sections."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.conftest import logged_in_client
from tests.factories import AccountFactory, UserFactory
from touchpoint.accounts.models import TimelineEntry
from touchpoint.revenue import renewal_process, services
from touchpoint.revenue.models import (
    OPEN_STAGES,
    ChurnReason,
    ExchangeRate,
    MovementKind,
    MrrMovement,
    RenewalOpportunity,
    SubscriptionStatus,
)
from touchpoint.users.models import Role

pytestmark = pytest.mark.django_db


def subscribe(account, *, mrr="1000", renews_in=30, currency="", **extra):
    today = timezone.localdate()
    subscription = services.create_subscription(
        account=account,
        product="Cloud",
        mrr=mrr,
        currency=currency,
        started_on=today - timedelta(days=400),
        renewal_date=today + timedelta(days=renews_in),
        **extra,
        confirm=True,  # a start before the test account was created is meant
    )
    return subscription, RenewalOpportunity.objects.get(subscription=subscription, stage__in=OPEN_STAGES)


# --- The renewals page ------------------------------------------------------------------------------


def test_a_past_due_renewal_stays_in_the_overdue_list_until_an_outcome_is_recorded(csm, account):
    account.name = "Lapsed Co"
    account.save()
    subscription, opportunity = subscribe(account, renews_in=-12)
    client = logged_in_client(csm)
    page = client.get(reverse("renewals")).content.decode()
    overdue = page[page.index('id="overdue"') : page.index('id="forecast-categories"')]
    assert "Lapsed Co" in overdue and "12 days overdue" in overdue
    assert "1 overdue renewal" in page
    # Weeks later, still there.
    renewal_process.update_opportunity(opportunity=opportunity, actor=csm, stage="in_discussion")
    assert (
        "Lapsed Co" in client.get(reverse("renewals")).content.decode().split('id="forecast-categories"')[0]
    )
    renewal_process.record_renewal_outcome(opportunity=opportunity, outcome="renewed", actor=csm)
    page = client.get(reverse("renewals")).content.decode()
    assert "No overdue renewals." in page


def test_the_page_shows_stage_forecast_expected_arr_health_and_filters_by_them(csm):
    today = timezone.localdate()
    committed = AccountFactory(name="Committed Co", owner=csm)
    talking = AccountFactory(name="Talking Co", owner=csm)
    _s, first = subscribe(committed, renews_in=10)
    _s, second = subscribe(talking, mrr="500", renews_in=20)
    renewal_process.update_opportunity(
        opportunity=first, actor=csm, stage="commit", forecast_category="commit", expected_arr="13000"
    )
    renewal_process.update_opportunity(opportunity=second, actor=csm, stage="in_discussion")
    from django.apps import apps

    apps.get_model("health", "HealthScore").objects.create(
        account=committed, day=today, version_id=1, score=20, grade="red"
    )
    client = logged_in_client(csm)
    page = client.get(reverse("renewals")).content.decode()
    table = page[page.index('id="renewals"') :]
    assert "Commit" in table and "In discussion" in table and "13,000 USD" in table
    assert 'grade-red">Red' in table
    only_commit = client.get(reverse("renewals"), {"stage": "commit"}).content.decode()
    listed = only_commit[only_commit.index('id="renewals"') : only_commit.index('id="calendar"')]
    assert "Committed Co" in listed and "Talking Co" not in listed
    assert "1 renewal in the next 120 days" in only_commit
    best_case = client.get(reverse("renewals"), {"forecast": "pipeline"}).content.decode()
    listed = best_case[best_case.index('id="renewals"') : best_case.index('id="calendar"')]
    assert "Talking Co" in listed and "Committed Co" not in listed
    assert client.get(reverse("renewals"), {"stage": "nonsense"}).status_code == 200  # ignored, not a 500


def test_the_forecast_by_category_sums_expected_arr_in_the_reporting_currency(csm):
    ExchangeRate.objects.create(currency="EUR", rate=Decimal("2"))
    _s, dollars = subscribe(AccountFactory(owner=csm), mrr="100", renews_in=10)
    _s, euros = subscribe(AccountFactory(owner=csm), mrr="100", renews_in=15, currency="EUR")
    _s, later = subscribe(AccountFactory(owner=csm), mrr="100", renews_in=200)  # outside the window
    renewal_process.update_opportunity(opportunity=euros, actor=csm, forecast_category="commit")
    page = logged_in_client(csm).get(reverse("renewals")).content.decode()
    summary = page[page.index('id="forecast-by-category"') :]
    summary = summary[: summary.index("</table>")]
    assert '<tr data-category="pipeline"><td>Pipeline</td><td>1</td><td>1,200</td>' in summary
    assert '<tr data-category="commit"><td>Commit</td><td>1</td><td>2,400</td>' in summary
    assert "3,600" in summary


def test_the_renewals_page_is_a_fixed_number_of_queries(csm, django_assert_max_num_queries):
    def page_queries() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            assert logged_in_client(csm).get(reverse("renewals")).status_code == 200
        return len(captured)

    for n in range(3):
        subscribe(AccountFactory(owner=csm), renews_in=n * 5 - 5)
    few = page_queries()
    for n in range(25):
        _s, opportunity = subscribe(AccountFactory(owner=csm), renews_in=n * 3 - 20)
        renewal_process.update_opportunity(opportunity=opportunity, actor=csm, stage="commit")
    assert page_queries() == few


# --- An opportunity's page ------------------------------------------------------------------------


def test_changing_stage_and_forecast_on_the_opportunity_page(csm, account):
    _s, opportunity = subscribe(account)
    client = logged_in_client(csm)
    url = reverse("renewal-opportunity", args=[opportunity.pk])
    assert "Work the renewal" in client.get(url).content.decode()
    response = client.post(
        url,
        {
            "action": "update",
            "update-stage": "commit",
            "update-forecast_category": "best_case",
            "update-expected_arr": "11000",
            "update-owner": csm.pk,
            "update-notes": "Procurement next week",
        },
    )
    assert response.status_code == 302
    opportunity.refresh_from_db()
    assert (
        opportunity.stage,
        opportunity.forecast_category,
        opportunity.expected_arr,
        opportunity.notes,
    ) == (
        "commit",
        "best_case",
        Decimal("11000.00"),
        "Procurement next week",
    )
    assert TimelineEntry.objects.filter(account=account, kind="renewal_stage").count() == 1


@pytest.mark.parametrize(
    "value, message",
    [
        ("1000000000000", "Ensure that there are no more than 12 digits before the decimal point."),
        ("-1", "Ensure this value is greater than or equal to 0"),
        ("abc", "Enter a number."),
    ],
)
def test_a_bad_expected_arr_is_an_error_beside_the_field(csm, account, value, message):
    _s, opportunity = subscribe(account)
    response = logged_in_client(csm).post(
        reverse("renewal-opportunity", args=[opportunity.pk]),
        {
            "action": "update",
            "update-stage": "commit",
            "update-forecast_category": "commit",
            "update-expected_arr": value,
        },
    )
    assert response.status_code == 422
    page = response.content.decode()
    field = page[page.index('id="id_update-expected_arr"') :]
    assert message in field[: field.index("</div>")]
    opportunity.refresh_from_db()
    assert opportunity.stage == "not_started"


def test_recording_churn_on_the_page_cancels_the_subscription(csm, account):
    subscription, opportunity = subscribe(account, renews_in=-3)
    reason = ChurnReason.objects.get(name="Budget cut")
    client = logged_in_client(csm)
    url = reverse("renewal-opportunity", args=[opportunity.pk])
    missing = client.post(url, {"action": "outcome", "outcome-outcome": "churned"})
    assert missing.status_code == 422
    page = missing.content.decode()
    reason_field = page[page.index('id="id_outcome-churn_reason"') :]
    assert "Say why the customer left." in reason_field[: reason_field.index("</div>")]
    response = client.post(
        url, {"action": "outcome", "outcome-outcome": "churned", "outcome-churn_reason": reason.pk}
    )
    assert response.status_code == 302
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.CANCELED
    assert MrrMovement.objects.filter(kind=MovementKind.CHURN, churn_reason=reason).count() == 1
    page = client.get(url).content.decode()
    assert "Churned" in page and "Record the outcome" not in page


def test_a_downgrade_needs_a_lower_mrr_and_a_bad_date_is_refused(csm, account):
    subscription, opportunity = subscribe(account)
    client = logged_in_client(csm)
    url = reverse("renewal-opportunity", args=[opportunity.pk])
    higher = client.post(
        url, {"action": "outcome", "outcome-outcome": "downgraded", "outcome-new_mrr": "2000"}
    )
    assert higher.status_code == 422 and "A downgrade lowers the MRR below" in higher.content.decode()
    bad_date = client.post(
        url, {"action": "outcome", "outcome-outcome": "renewed", "outcome-new_renewal_date": "2026-13-45"}
    )
    assert bad_date.status_code == 422 and "Enter a valid date." in bad_date.content.decode()
    earlier = client.post(
        url,
        {
            "action": "outcome",
            "outcome-outcome": "renewed",
            "outcome-new_renewal_date": (opportunity.renewal_date - timedelta(days=1)).isoformat(),
        },
    )
    assert earlier.status_code == 422 and "The next renewal comes after this one." in earlier.content.decode()
    assert client.post(url, {"action": "nonsense"}).status_code == 400
    ok = client.post(url, {"action": "outcome", "outcome-outcome": "downgraded", "outcome-new_mrr": "400"})
    assert ok.status_code == 302
    subscription.refresh_from_db()
    assert subscription.mrr == Decimal("400.00")


def test_only_the_book_may_change_a_renewal(account, outsider, viewer, own_books_only):
    _s, opportunity = subscribe(account)
    url = reverse("renewal-opportunity", args=[opportunity.pk])
    data = {
        "action": "update",
        "update-stage": "commit",
        "update-forecast_category": "commit",
        "update-expected_arr": "1",
    }
    assert logged_in_client(outsider).get(url).status_code == 403
    viewer_client = logged_in_client(viewer)
    assert "Work the renewal" not in viewer_client.get(url).content.decode()
    assert viewer_client.post(url, data).status_code == 403
    opportunity.refresh_from_db()
    assert opportunity.stage == "not_started"


# --- The account panel and home ---------------------------------------------------------------------


def test_the_account_panel_shows_the_open_renewal_with_its_stage_and_past_outcomes(csm, account):
    subscription, opportunity = subscribe(account, renews_in=-1)
    renewal_process.record_renewal_outcome(opportunity=opportunity, outcome="renewed", actor=csm)
    following = RenewalOpportunity.objects.get(subscription=subscription, stage__in=OPEN_STAGES)
    renewal_process.update_opportunity(opportunity=following, actor=csm, stage="in_discussion")
    page = logged_in_client(csm).get(reverse("account-renewal", args=[account.pk])).content.decode()
    assert f'data-opportunity="{following.pk}"' in page and "In discussion" in page
    assert "Recent outcomes" in page and "Renewed" in page


def test_home_lists_renewals_of_the_next_120_days_and_overdue_ones_of_the_book(
    csm, django_assert_max_num_queries
):
    other = UserFactory(role=Role.CSM)
    _s, soon = subscribe(AccountFactory(name="Soon Co", owner=csm), renews_in=40)
    subscribe(AccountFactory(name="Far Co", owner=csm), renews_in=200)
    subscribe(AccountFactory(name="Late Co", owner=csm), renews_in=-9)
    subscribe(AccountFactory(name="Theirs Co", owner=other), renews_in=10)
    renewal_process.update_opportunity(opportunity=soon, actor=csm, stage="commit")
    client = logged_in_client(csm)
    page = client.get(reverse("my-day")).content.decode()
    upcoming = page[page.index('data-section="renewals-upcoming"') :]
    upcoming = upcoming[: upcoming.index("</section>")]
    overdue = page[page.index('data-section="renewals-overdue"') :]
    overdue = overdue[: overdue.index("</section>")]
    assert "Soon Co" in upcoming and "in 40 days" in upcoming and "Commit" in upcoming
    assert "Far Co" not in upcoming and "Late Co" not in upcoming and "Theirs Co" not in upcoming
    assert "Late Co" in overdue and "9 days overdue" in overdue and "Soon Co" not in overdue


def test_home_renewal_sections_are_a_fixed_number_of_queries(csm):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from touchpoint.home.selectors import scope_for
    from touchpoint.revenue import home_sections

    def queries() -> int:
        scope = scope_for(csm)
        with CaptureQueriesContext(connection) as captured:
            for build in (home_sections.upcoming_renewals, home_sections.overdue_renewals):
                data = build(scope)
                for row in data["items"]:
                    (
                        str(row.opportunity.account.name),
                        str(row.opportunity.subscription),
                        str(row.opportunity.owner),
                    )
        return len(captured)

    subscribe(AccountFactory(owner=csm), renews_in=10)
    subscribe(AccountFactory(owner=csm), renews_in=-10)
    few = queries()
    for n in range(30):
        subscribe(AccountFactory(owner=csm), renews_in=n * 4 - 60)
    assert queries() == few <= 6  # per section: the rows, and what the read rule asks (role, settings)


def test_a_renewal_at_over_ten_times_the_price_asks_to_confirm_beside_the_new_mrr(csm, account):
    subscription, opportunity = subscribe(account, mrr="100")
    client = logged_in_client(csm)
    url = reverse("renewal-opportunity", args=[opportunity.pk])
    body = {"action": "outcome", "outcome-outcome": "renewed", "outcome-new_mrr": "5000"}
    asked = client.post(url, body)
    assert asked.status_code == 422
    page = asked.content.decode()
    new_mrr_field = page[page.index('id="id_outcome-new_mrr"') :]
    new_mrr_field = new_mrr_field[: new_mrr_field.index("</div>")]
    assert "more than ten times" in new_mrr_field and 'value="mrr_jump"' in new_mrr_field
    subscription.refresh_from_db()
    assert subscription.mrr == Decimal("100.00")  # nothing written until confirmed
    assert client.post(url, {**body, "outcome-confirm": "mrr_jump"}).status_code == 302
    subscription.refresh_from_db()
    assert subscription.mrr == Decimal("5000.00")
