"""Renewals due with their risk, the calendar, and the renewal forecast (worked by hand, no peeking ahead)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import logged_in_client
from tests.factories import AccountFactory, SegmentFactory, UserFactory
from touchpoint.health.models import HealthScore, Scorecard, ScorecardVersion
from touchpoint.revenue import forecast, renewals, services
from touchpoint.revenue.forecast import Lifetime
from touchpoint.revenue.models import ChurnReason
from touchpoint.revenue.selectors import RevenueFilter
from touchpoint.usage.models import DailyAccountRollup
from touchpoint.users.roles import Role

JAN_2025 = date(2025, 1, 1)


def lifetime(pk, started=JAN_2025, canceled=None, mrr="100", segment="") -> Lifetime:
    return Lifetime(pk, segment, started, 12, canceled, ((started, Decimal(mrr)),))


def test_survival_worked_by_hand():
    """Five subscriptions from 1 Jan 2025: one leaves on day 100, one on day 200, three stay; F joins on day 231.

    Known on 1 Jan 2026: at day 100, 6 at risk, 1 leaves → S = 5/6; at day 200, 4 at risk (F, at 134 days,
    is not yet), 1 leaves → S = 5/6 × 3/4 = 0.625. F renews on 20 Aug 2026 (day 365 of its life), now at day
    134: P = S(365) / S(134) = 0.625 / (5/6) = 0.75, so 0.75 × its ARR of 2,400 = 1,800 is expected.
    """
    history = [
        lifetime(1),
        lifetime(2),
        lifetime(3),
        lifetime(4, canceled=JAN_2025 + timedelta(days=100)),
        lifetime(5, canceled=JAN_2025 + timedelta(days=200)),
        lifetime(6, started=date(2025, 8, 20), mrr="200"),
    ]
    now = date(2026, 1, 1)
    survival = forecast.Survival(history, now)
    assert survival.at("", 99) == 1.0 and survival.at("", 100) == pytest.approx(5 / 6)
    assert survival.at("", 365) == pytest.approx(0.625)
    august = forecast.month_forecast(history, date(2026, 8, 1), now=now, survival=survival)
    assert (august.renewals, august.due_arr, august.expected_arr) == (
        1,
        Decimal("2400.00"),
        Decimal("1800.00"),
    )
    january = forecast.month_forecast(history, date(2026, 1, 1), now=now, survival=survival)
    assert january.renewals == 3 and january.due_arr == Decimal("3600.00")  # A, B, C renew on 1 Jan 2026


def test_past_months_are_forecast_without_later_data():
    """What happened after a month began (a cancellation, a new customer) cannot change its forecast."""
    start = date(2025, 1, 10)
    base = [lifetime(n, started=start) for n in range(1, 5)] + [
        lifetime(9, started=start, canceled=date(2025, 5, 1))
    ]
    before = forecast.month_forecast(base, date(2026, 1, 1))
    later = [
        *base[:3],
        lifetime(4, started=start, canceled=date(2026, 1, 10)),  # left on its renewal day
        base[4],
        lifetime(10, started=date(2026, 1, 15)),
    ]
    after = forecast.month_forecast(later, date(2026, 1, 1))
    assert after.expected_arr == before.expected_arr and after.due_arr == before.due_arr
    assert (before.actual_arr, after.actual_arr) == (
        Decimal("4800"),
        Decimal("3600"),
    )  # only the outcome differs
    assert after.error == pytest.approx(abs(float(after.expected_arr) - 3600) / 3600)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 500), st.one_of(st.none(), st.integers(1, 700)), st.integers(1, 5000)),
        min_size=1,
        max_size=25,
    )
)
def test_expected_renewing_arr_is_between_nothing_and_everything_due(rows):
    history = [
        lifetime(
            n,
            started=JAN_2025 + timedelta(days=start),
            canceled=None if gone is None else JAN_2025 + timedelta(days=start + gone),
            mrr=str(mrr),
        )
        for n, (start, gone, mrr) in enumerate(rows)
    ]
    outlook = forecast.forecast(history, today=date(2026, 6, 15), past_months=6, coming_months=6)
    for month in outlook.past + outlook.coming:
        assert 0 <= month.expected_arr <= month.due_arr
        if month.actual_arr is not None:
            assert 0 <= month.actual_arr <= month.due_arr


def test_month_grid_starts_on_monday():
    weeks = renewals.month_grid(date(2026, 11, 1))  # 1 November 2026 is a Sunday
    assert weeks[0] == [None] * 6 + [date(2026, 11, 1)] and weeks[-1][0] == date(2026, 11, 30)


@pytest.mark.django_db
def test_renewals_due_carry_their_risk_signs(csm):
    today = timezone.localdate()
    enterprise = SegmentFactory(name="Enterprise")

    def subscription(name, renews_in, **account):
        account = AccountFactory(name=name, owner=csm, segment=enterprise, **account)
        return services.create_subscription(
            confirm=True,
            account=account,
            product="Cloud",
            mrr=Decimal("100"),
            started_on=today - timedelta(days=300),
            renewal_date=today + timedelta(days=renews_in),
        )

    calm = subscription("Calm", 10)
    late = subscription("Late payer", 20)
    services.record_payment_failed(subscription=late)
    shrinking = subscription("Shrinking", 40)
    services.change_subscription(
        subscription=shrinking,
        mrr=Decimal("80"),
        occurred_on=today - timedelta(days=5),
        churn_reason=ChurnReason.objects.get(name="Budget cut"),
    )
    fading = subscription("Fading", 50)
    for offset in range(1, 61):
        DailyAccountRollup.objects.create(
            account=fading.account,
            day=today - timedelta(days=offset),
            events=2 if offset <= 30 else 10,
            active_users=1,
        )
    HealthScore.objects.create(
        account=fading.account,
        day=today,
        score=20,
        grade="red",
        version=ScorecardVersion.objects.create(
            scorecard=Scorecard.objects.create(name="Test", segment=enterprise), number=1, definition={}
        ),
    )
    subscription("Far away", 200)
    found = renewals.due(
        RevenueFilter(owner_id=csm.pk), start=today, end=today + timedelta(days=120), today=today
    )
    assert [(r.subscription.account.name, r.signs, r.risk) for r in found] == [
        ("Calm", [], "low"),
        ("Late payer", ["past_due"], "medium"),
        ("Shrinking", ["contracted"], "medium"),
        ("Fading", ["usage_down", "health_red"], "high"),
    ]
    assert found[0].arr == Decimal("1200")
    assert calm.pk == found[0].subscription.pk
    assert (
        renewals.due(RevenueFilter(owner_id=csm.pk), start=today, end=today + timedelta(days=30))[
            -1
        ].subscription
        == late
    )


@pytest.mark.django_db
def test_a_csm_sees_their_renewals_by_default_and_can_see_everyone(csm, django_assert_max_num_queries):
    today = timezone.localdate()
    other = UserFactory(role=Role.CSM, email="other@example.com")
    for owner, name in ((csm, "Mine"), (other, "Theirs")):
        services.create_subscription(
            confirm=True,
            account=AccountFactory(name=name, owner=owner),
            product="Cloud",
            mrr=Decimal("50"),
            started_on=today - timedelta(days=200),
            renewal_date=today + timedelta(days=15),
        )
    for n in range(20):
        services.create_subscription(
            confirm=True,
            account=AccountFactory(owner=other),
            product="Cloud",
            mrr=Decimal("5"),
            started_on=today - timedelta(days=100),
            renewal_date=today + timedelta(days=n),
        )
    client = logged_in_client(csm)
    with django_assert_max_num_queries(21):
        page = client.get("/renewals/").content.decode()
    assert "Mine" in page and "Theirs" not in page
    everyone = client.get("/renewals/", {"owner": "", "within": "30"}).content.decode()
    assert "Theirs" in everyone and "22 renewals in the next 30 days" in everyone
    assert "Mine" in client.get("/renewals/", {"owner": "", "month": f"{today:%Y-%m}"}).content.decode()
    leader = logged_in_client(UserFactory(role=Role.CS_LEADER, email="lead@example.com"))
    assert "Theirs" in leader.get("/renewals/").content.decode()  # leaders start with everyone
    exported = client.get("/renewals/export.csv").content.decode("utf-8-sig").splitlines()
    assert (
        exported[0].startswith("Renewal date,Account,Owner")
        and len(exported) == 2
        and ",Mine," in exported[1]
    )
