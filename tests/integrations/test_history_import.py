"""Imports that keep history: accounts' "customer since", and subscriptions as one row per subscription,
one row per billing period (gathered into lives with their churn, expansion and return dates), or
refused when the file could be read either way."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from django.db import connection
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import assert_api_error
from tests.factories import AccountFactory
from touchpoint.accounts.models import Account
from touchpoint.health.measures import AsOf, measured_sql
from touchpoint.integrations.csv_import import runner
from touchpoint.revenue.models import MovementKind, MrrMovement, Subscription, SubscriptionStatus
from touchpoint.revenue.services import BillingPeriod, collapse_periods

pytestmark = pytest.mark.django_db


def write(tmp_path, text: str, name: str = "file.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(result) -> list[str]:
    return [str(p) for p in result.problems]


TODAY = timezone.localdate()
# Twelve monthly periods, the last one running today: month 0 began eleven months before this one.
FIRST = TODAY.replace(day=1) - relativedelta(months=11)


def month(n: int) -> tuple[date, date]:
    start = FIRST + relativedelta(months=n)
    return start, start + relativedelta(months=1) - timedelta(days=1)


def period_rows(sub: str, account: str, months, amount) -> list[str]:
    rows = []
    for n in months:
        start, end = month(n)
        price = amount(n) if callable(amount) else amount
        rows.append(f"{sub},{account},Cloud,{start.isoformat()},{end.isoformat()},{price}")
    return rows


def tenure_of(account: Account, day: date) -> float | None:
    sql, params = measured_sql(AsOf(day), ["tenure"])
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH {sql} SELECT value FROM measured WHERE account_id = %s AND measure = 'tenure'",
            [*params, account.pk],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def movements(external_id: str) -> list[tuple[str, date, Decimal]]:
    return list(
        MrrMovement.objects.effective()
        .filter(subscription__external_id=external_id)
        .order_by("occurred_on", "id")
        .values_list("kind", "occurred_on", "delta")
    )


# --- Customer since -----------------------------------------------------------------------------


def test_customer_since_sets_created_at_and_health_reads_it_as_tenure(tmp_path):
    path = write(
        tmp_path,
        "Account ID,Account Name,Customer Since\nA1,Acme,2024-03-01\nA2,Beta,\n",
        name="accounts.csv",
    )
    result = runner.run(path, "accounts")
    assert result.ok, problems(result)
    acme, beta = Account.objects.get(external_id="A1"), Account.objects.get(external_id="A2")
    assert timezone.localtime(acme.created_at).date() == date(2024, 3, 1)
    assert timezone.localtime(acme.created_at).time().hour == 0
    assert timezone.localdate(beta.created_at) == TODAY  # no date: a customer since today
    # Health's tenure measure counts from it; a day before it the account was not a customer yet.
    assert tenure_of(acme, TODAY) == (TODAY - date(2024, 3, 1)).days + 1
    assert tenure_of(acme, date(2024, 2, 28)) is None
    # The same file again changes nothing; another date moves it.
    again = runner.run(path, "accounts")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    moved = write(tmp_path, "Account ID,Account Name,Customer Since\nA1,Acme,01.02.2023\n", name="m.csv")
    assert runner.run(moved, "accounts").updated == 1
    assert timezone.localdate(Account.objects.get(external_id="A1").created_at) == date(2023, 2, 1)


def test_a_customer_since_in_the_future_or_before_1900_is_a_row_problem(tmp_path):
    tomorrow = TODAY + timedelta(days=1)
    path = write(
        tmp_path,
        f"Account ID,Account Name,Customer Since\nA1,Acme,1899-12-31\nA2,Beta,{tomorrow.isoformat()}\nA3,Gamma,soon\n",
    )
    assert problems(runner.run(path, "accounts")) == [
        "row 2, column Customer Since: “Customer since” cannot be before 1900.",
        "row 3, column Customer Since: “Customer since” cannot be after today.",
        "row 4, column Customer Since: “soon” is not a date (use e.g. 2026-03-01).",
    ]
    assert not Account.objects.exists()


def test_customer_since_through_the_api(admin_api):
    created = admin_api.send("post", "/accounts", {"name": "Acme", "customer_since": "2022-05-04"})
    assert created.status_code == 201, created.content
    assert created.json()["customer_since"] == "2022-05-04"
    account = Account.objects.get(pk=created.json()["id"])
    assert timezone.localdate(account.created_at) == date(2022, 5, 4)
    changed = admin_api.send("patch", f"/accounts/{account.pk}", {"customer_since": "2021-01-10"})
    assert changed.status_code == 200 and changed.json()["customer_since"] == "2021-01-10"
    future = (TODAY + timedelta(days=3)).isoformat()
    assert_api_error(
        admin_api.send("patch", f"/accounts/{account.pk}", {"customer_since": future}), 422, "customer_since"
    )
    assert_api_error(
        admin_api.send("patch", f"/accounts/{account.pk}", {"customer_since": "0001-01-01"}),
        422,
        "customer_since",
    )
    assert_api_error(
        admin_api.send("patch", f"/accounts/{account.pk}", {"customer_since": None}), 422, "customer_since"
    )
    account.refresh_from_db()
    assert timezone.localdate(account.created_at) == date(2021, 1, 10)


def test_customer_since_on_the_account_form(client, admin_user):
    account = AccountFactory(name="Acme")
    client.force_login(admin_user)
    response = client.post(
        reverse("account-edit", args=[account.pk]),
        {"name": "Acme", "domain": "", "engagement_model": "hybrid", "customer_since": "2020-07-01"},
    )
    assert response.status_code == 302, response.content
    account.refresh_from_db()
    assert timezone.localdate(account.created_at) == date(2020, 7, 1)
    page = client.get(reverse("account-detail", args=[account.pk]))
    assert 'value="2020-07-01"' in page.content.decode()


def test_customer_since_on_the_new_account_form(client, admin_user):
    client.force_login(admin_user)
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    refused = client.post(
        reverse("account-create"), {"name": "Later", "engagement_model": "hybrid", "customer_since": tomorrow}
    )
    assert refused.status_code == 422 and "cannot be after today" in refused.content.decode()
    response = client.post(
        reverse("account-create"),
        {"name": "Acme", "engagement_model": "hybrid", "customer_since": "2019-11-30"},
    )
    assert response.status_code == 302, response.content
    assert timezone.localdate(Account.objects.get(name="Acme").created_at) == date(2019, 11, 30)


# --- Subscriptions: one row per billing period ----------------------------------------------------

HEADER = "Subscription ID,Account ID,Product,Period Start,Period End,Amount"


def periods_file(tmp_path, extra: list[str] | None = None, name="periods.csv"):
    rows = [
        # continuous, twelve months at 100, still running
        *period_rows("S1", "A1", range(12), 100),
        # an upgrade from 100 to 150 in month 6, still running
        *period_rows("S2", "A2", range(12), lambda n: 100 if n < 6 else 150),
        # months 0-2, a gap of two months, back from month 5 on
        *period_rows("S3", "A3", [0, 1, 2, 5, 6, 7, 8, 9, 10, 11], 80),
        # months 0-4, then gone
        *period_rows("S4", "A4", range(5), 200),
        *(extra or []),
    ]
    return write(tmp_path, "\n".join([HEADER, *reversed(rows)]) + "\n", name=name)  # any order


@pytest.fixture
def customers():
    # Customers since before the history starts: no Confirm column needed.
    since = timezone.make_aware(timezone.datetime(FIRST.year - 1, 1, 1))
    return {f"A{n}": AccountFactory(external_id=f"A{n}", created_at=since) for n in range(1, 5)}


def test_a_per_period_file_imports_as_lives_with_their_dates(tmp_path, customers):
    result = runner.run(periods_file(tmp_path), "subscriptions")
    assert result.ok, problems(result)
    assert result.shape == "periods" and "billing period" in result.shape_label
    assert (result.rows, result.created, result.updated, result.unchanged) == (39, 4, 0, 0)

    assert movements("S1") == [(MovementKind.NEW, month(0)[0], Decimal("100.00"))]
    s1 = Subscription.objects.get(external_id="S1")
    assert s1.status == SubscriptionStatus.ACTIVE and s1.renewal_date == month(11)[1]
    assert (s1.started_on, s1.mrr) == (month(0)[0], Decimal("100.00"))

    assert movements("S2") == [
        (MovementKind.NEW, month(0)[0], Decimal("100.00")),
        (MovementKind.EXPANSION, month(6)[0], Decimal("50.00")),
    ]
    assert Subscription.objects.get(external_id="S2").mrr == Decimal("150.00")

    assert movements("S3") == [
        (MovementKind.NEW, month(0)[0], Decimal("80.00")),
        (MovementKind.CHURN, month(2)[1], Decimal("-80.00")),
        (MovementKind.REACTIVATION, month(5)[0], Decimal("80.00")),
    ]
    assert Subscription.objects.get(external_id="S3").status == SubscriptionStatus.ACTIVE

    assert movements("S4") == [
        (MovementKind.NEW, month(0)[0], Decimal("200.00")),
        (MovementKind.CHURN, month(4)[1], Decimal("-200.00")),
    ]
    s4 = Subscription.objects.get(external_id="S4")
    assert (s4.status, s4.canceled_on) == (SubscriptionStatus.CANCELED, month(4)[1])
    # The account MRR adds up to what is live today.
    total = sum(MrrMovement.objects.effective().values_list("delta", flat=True))
    assert total == Decimal("330.00")


def test_the_back_test_sees_the_churns_on_their_days(tmp_path, customers):
    from touchpoint.revenue.health_measures import losses_between

    assert runner.run(periods_file(tmp_path), "subscriptions").ok
    losses = sorted(losses_between(FIRST - timedelta(days=1), TODAY))
    assert losses == sorted([(customers["A3"].pk, month(2)[1]), (customers["A4"].pk, month(4)[1])])


def test_reimporting_is_a_no_op_and_one_more_month_extends_the_life(tmp_path, customers):
    path = periods_file(tmp_path)
    assert runner.run(path, "subscriptions").ok
    before = MrrMovement.objects.count()
    again = runner.run(path, "subscriptions")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4), problems(again)
    assert MrrMovement.objects.count() == before
    # S4 had ended with month 4: a fifth month appended (and a price cut) moves its churn on.
    longer = periods_file(tmp_path, [*period_rows("S4", "A4", [5], 150)], name="longer.csv")
    extended = runner.run(longer, "subscriptions")
    assert (extended.created, extended.updated, extended.unchanged) == (0, 1, 3), problems(extended)
    assert movements("S4") == [
        (MovementKind.NEW, month(0)[0], Decimal("200.00")),
        (MovementKind.CONTRACTION, month(5)[0], Decimal("-50.00")),
        (MovementKind.CHURN, month(5)[1], Decimal("-150.00")),
    ]
    assert Subscription.objects.get(external_id="S4").canceled_on == month(5)[1]
    # The churn the first import recorded is voided (kept, with its reversal), not deleted.
    assert MrrMovement.objects.filter(subscription__external_id="S4", voided_at__isnull=False).count() == 1
    assert runner.run(longer, "subscriptions").unchanged == 4


def test_a_dry_run_counts_and_writes_nothing(tmp_path, customers):
    dry = runner.run(periods_file(tmp_path), "subscriptions", dry_run=True)
    assert (dry.created, dry.written, dry.shape) == (4, False, "periods")
    assert not Subscription.objects.exists()


def test_subscriptions_of_one_account_are_written_in_date_order(tmp_path, customers):
    """Two subscriptions of one account: a start while the other pays is an expansion, an end a contraction."""
    rows = [
        *period_rows("B1", "A1", range(6), 100),  # ends with month 5
        *period_rows("B2", "A1", range(3, 12), 50),  # starts in month 3, still running
    ]
    result = runner.run(write(tmp_path, "\n".join([HEADER, *rows])), "subscriptions")
    assert result.ok, problems(result)
    assert movements("B2")[0][0] == MovementKind.EXPANSION
    assert movements("B1")[-1] == (MovementKind.CONTRACTION, month(5)[1], Decimal("-100.00"))


def test_start_and_end_date_columns_repeated_per_row_are_periods_without_an_id_column(tmp_path, customers):
    rows = ["Account,Product,Start Date,End Date,MRR"]
    for n in range(4):
        start, end = month(n)
        rows.append(f"A1,Cloud,{start.isoformat()},{end.isoformat()},90")
    result = runner.run(write(tmp_path, "\n".join(rows)), "subscriptions")
    assert result.ok and result.shape == "periods", problems(result)
    (subscription,) = Subscription.objects.all()
    assert subscription.external_id == "A1/Cloud"
    assert [m[0] for m in movements("A1/Cloud")] == [MovementKind.NEW, MovementKind.CHURN]
    assert subscription.canceled_on == month(3)[1]


def test_an_amount_for_a_longer_period_is_spread_over_its_months(tmp_path, customers):
    start = FIRST - relativedelta(years=1)
    text = f"{HEADER}\nY1,A1,Cloud,{start.isoformat()},{(start + relativedelta(years=1) - timedelta(days=1)).isoformat()},1200\n"
    result = runner.run(write(tmp_path, text), "subscriptions")
    assert result.ok, problems(result)
    assert movements("Y1")[0] == (MovementKind.NEW, start, Decimal("100.00"))


def test_period_problems_name_row_and_column(tmp_path, customers):
    text = "\n".join(
        [
            HEADER,
            f"P1,A1,Cloud,{month(0)[0]},{month(0)[1]},100",
            f"P1,A1,Cloud,{month(0)[0] + timedelta(days=10)},{month(1)[1]},100",  # overlaps row 2
            f"P2,A2,Cloud,{month(2)[1]},{month(2)[0]},100",  # ends before it starts
            f"P3,A3,Cloud,{TODAY + timedelta(days=5)},{TODAY + timedelta(days=35)},100",  # not begun
            f"P4,A4,Cloud,{month(0)[0]},{month(0)[1]},100",
            f"P4,A1,Cloud,{month(1)[0]},{month(1)[1]},100",  # another account
        ]
    )
    found = problems(runner.run(write(tmp_path, text), "subscriptions"))
    assert found[:2] == [
        "row 4, column Period End: The billing period ends before it starts.",
        "row 5, column Period Start: This billing period starts after today: leave it out until it has begun.",
    ]
    assert found[2].startswith("row 3, column Period Start: This billing period (") and "row 2" in found[2]
    assert found[3] == "row 7, column Account ID: The same subscription as in row 6, but another account."
    assert not Subscription.objects.exists()


# --- Ambiguous files are refused -----------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "Subscription ID,Account ID,Product,MRR,Start Date\nS1,A1,Cloud,100,2025-01-01\nS1,A1,Cloud,100,2025-02-01\n",
            "row 3, column Subscription ID: “S1” is also in row 2, but the file has no billing period dates",
        ),
        (
            "Subscription ID,Account ID,Product,MRR,Start Date,End Date\nS1,A1,Cloud,100,2025-01-01,2025-12-31\n",
            "row 1, column End Date: One row per subscription with an end date and no status",
        ),
        (
            "Subscription ID,Account ID,Product,Amount,Start Date\nS1,A1,Cloud,100,2025-01-01\n",
            "row 1, column Amount: An amount with one row per subscription and no billing periods",
        ),
        (
            "Subscription ID,Account ID,Product,MRR,Period Start\nS1,A1,Cloud,100,2025-01-01\n",
            "row 1, column Billing period end: Billing periods need both a start and an end column",
        ),
    ],
)
def test_an_ambiguous_file_is_refused_with_the_reason(tmp_path, customers, text, expected):
    result = runner.run(write(tmp_path, text), "subscriptions")
    assert not result.ok and result.shape == "ambiguous"
    assert problems(result)[0].startswith(expected), problems(result)
    assert not Subscription.objects.exists() and not MrrMovement.objects.exists()


def test_the_command_says_how_it_read_the_file(tmp_path, customers):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command(
        "import", "subscriptions", str(periods_file(tmp_path)), "--no-progress", stdout=out, stderr=StringIO()
    )
    assert "Read as: One row per billing period" in out.getvalue()


# --- One row per subscription, with an explicit status and end ------------------------------------


def test_a_canceled_row_ends_on_its_end_date_and_a_live_row_renews_on_it(tmp_path, customers):
    text = (
        "Subscription ID,Account ID,Product,MRR,Start Date,End Date,Status\n"
        f"C1,A1,Cloud,100,{month(0)[0]},{month(3)[1]},canceled\n"
        f"C2,A2,Cloud,100,{month(0)[0]},{month(11)[1]},active\n"
        f"C3,A3,Cloud,100,{month(0)[0]},,\n"
    )
    result = runner.run(write(tmp_path, text), "subscriptions")
    assert result.ok and result.shape == "rows", problems(result)
    assert movements("C1") == [
        (MovementKind.NEW, month(0)[0], Decimal("100.00")),
        (MovementKind.CHURN, month(3)[1], Decimal("-100.00")),
    ]
    c2 = Subscription.objects.get(external_id="C2")
    assert (c2.status, c2.renewal_date) == (SubscriptionStatus.ACTIVE, month(11)[1])
    assert runner.run(write(tmp_path, text, name="again.csv"), "subscriptions").unchanged == 3


def test_a_row_with_an_end_and_no_status_or_a_cancel_without_a_day_is_a_row_problem(tmp_path, customers):
    text = (
        "Subscription ID,Account ID,Product,MRR,Start Date,End Date,Status\n"
        f"C1,A1,Cloud,100,{month(0)[0]},{month(3)[1]},\n"
        f"C2,A2,Cloud,100,{month(0)[0]},,canceled\n"
        f"C3,A3,Cloud,100,{month(0)[0]},{TODAY + timedelta(days=9)},canceled\n"
    )
    found = problems(runner.run(write(tmp_path, text), "subscriptions"))
    assert found == [
        "row 2, column Status: Give the status: with an end date, it says whether the end is a cancellation or the renewal.",
        "row 3, column End Date: A canceled subscription needs the day it ended.",
        "row 4, column End Date: A cancellation after today has not happened yet: import the subscription as active.",
    ]


# --- Collapsing periods: properties ---------------------------------------------------------------

periods_strategy = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=400),  # start, days after a fixed day
        st.integers(min_value=0, max_value=60),  # length in days
        st.sampled_from([Decimal("0"), Decimal("10.00"), Decimal("25.50"), Decimal("99.99")]),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(raw=periods_strategy, today_offset=st.integers(min_value=0, max_value=500))
def test_collapsed_steps_add_up_to_the_final_mrr_and_churns_fall_on_period_ends(raw, today_offset):
    origin = date(2024, 1, 1)
    periods = [
        BillingPeriod(origin + timedelta(days=s), origin + timedelta(days=s + length), mrr, row=i)
        for i, (s, length, mrr) in enumerate(raw)
    ]
    today = origin + timedelta(days=today_offset)
    steps, renewal = collapse_periods(periods, today=today)
    paid = [p for p in periods if p.mrr > 0]
    if not paid:
        assert steps == [] and renewal is None
        return
    # Movements add up: each step's change, from zero, ends at the final MRR.
    mrr, total = Decimal("0"), Decimal("0")
    for step in steps:
        total += step.mrr - mrr
        mrr = step.mrr
    latest = max(paid, key=lambda p: (p.start, p.end, p.row))
    assert total == mrr == (latest.mrr if renewal is not None else Decimal("0"))
    # Lives alternate: start, changes, end; days never go back.
    assert steps[0].kind == "start"
    for before, after in zip(steps, steps[1:], strict=False):
        assert before.day <= after.day
        assert (after.kind == "start") == (before.kind == "end")
    # Every end is the end of a paid period, before today; a live subscription renews on its last end.
    ends = {p.end for p in paid}
    for step in steps:
        if step.kind == "end":
            assert step.day in ends and step.mrr == 0
    if renewal is not None:
        assert renewal >= today and renewal == max(p.end for p in paid)
    else:
        assert steps[-1].kind == "end" and steps[-1].day < today


@given(
    lengths=st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=10),
    gaps=st.lists(st.integers(min_value=0, max_value=3), min_size=10, max_size=10),
)
def test_periods_within_the_tolerance_are_one_life(lengths, gaps):
    day, periods = date(2023, 1, 1), []
    for i, length in enumerate(lengths):
        periods.append(BillingPeriod(day, day + timedelta(days=length), Decimal("10.00"), row=i))
        day = day + timedelta(days=length + gaps[i])
    steps, renewal = collapse_periods(periods, today=date(2030, 1, 1))
    assert [s.kind for s in steps] == ["start", "end"]
    assert steps[1].day == periods[-1].end and renewal is None


def test_history_before_the_account_asks_for_confirm_or_customer_since(tmp_path):
    AccountFactory(external_id="A1")  # a customer since today
    rows = period_rows("S1", "A1", range(3), 100)
    refused = runner.run(write(tmp_path, "\n".join([HEADER, *rows])), "subscriptions")
    assert [(p.row, p.column) for p in refused.problems] == [(2, "Period Start")]
    assert "Confirm column" in problems(refused)[0]
    confirmed = write(tmp_path, "\n".join([HEADER + ",Confirm", rows[0] + ",yes", *rows[1:]]), name="c.csv")
    assert runner.run(confirmed, "subscriptions").ok
    assert [m[0] for m in movements("S1")] == [MovementKind.NEW, MovementKind.CHURN]


def test_a_change_made_outside_imports_is_not_voided_by_a_reimport(tmp_path, customers):
    from touchpoint.revenue import services

    path = periods_file(tmp_path)
    assert runner.run(path, "subscriptions").ok
    s1 = Subscription.objects.get(external_id="S1")
    services.change_subscription(subscription=s1, occurred_on=TODAY, mrr=Decimal("120.00"))  # by hand
    result = runner.run(path, "subscriptions")
    assert not result.ok and "was not imported" in problems(result)[0]
    assert problems(result)[0].startswith("row ")
    assert Subscription.objects.get(external_id="S1").mrr == Decimal("120.00")


def test_a_company_imported_today_gets_past_scores_from_its_history(tmp_path):
    """The story of the issue: accounts and a year of billing imported today; `health recompute --days`
    writes scores for the past days each account was a customer, and says how many."""
    from io import StringIO

    from django.core.management import call_command

    from touchpoint.health.models import HealthScore

    accounts = write(
        tmp_path,
        "Account ID,Account Name,Customer Since\n"
        + "\n".join(f"A{n},Customer {n},{FIRST.isoformat()}" for n in range(1, 5))
        + f"\nA5,Late joiner,{month(6)[0].isoformat()}\n",
        name="accounts.csv",
    )
    assert runner.run(accounts, "accounts").ok
    subscriptions = periods_file(tmp_path, extra=period_rows("S5", "A5", range(6, 12), 90))
    assert runner.run(subscriptions, "subscriptions").ok

    out = StringIO()
    days = (TODAY - FIRST).days + 1
    call_command("health", "recompute", "--days", str(days), stdout=out)
    scored_days = dict(
        HealthScore.objects.values_list("account__external_id")
        .annotate(n=Count("day"))
        .values_list("account__external_id", "n")
    )
    # Everyone from the first month on; the late joiner only from the day it became a customer.
    assert scored_days["A1"] == days
    assert scored_days["A5"] == (TODAY - month(6)[0]).days + 1
    assert not HealthScore.objects.filter(account__external_id="A5", day__lt=month(6)[0]).exists()
    written = HealthScore.objects.count()
    assert f"Wrote {written} scores over {days} day(s)" in out.getvalue()
