"""The KPIs a readiness map's stages show: every slot there, filled by the app that holds the data or
saying "no data" and how to bring it (never a made-up number), a broken one shown as such; uptime from
the months typed in; revenue and time to value worked out by hand, narrowed to the map's product and to
the accounts the person looking may read."""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal

import pytest
from django.apps import apps
from hypothesis import given
from hypothesis import strategies as st

from tests.factories import AccountFactory, SubscriptionFactory, UserFactory
from touchpoint.readiness.kpis import SLOTS, Kpi, KpiCell, KpiContext, KpiValue, cells, kpis, slots_for
from touchpoint.readiness.models import UptimeMonth
from touchpoint.readiness.uptime_kpi import uptime
from touchpoint.users.roles import Role

# A quarter ending on the last day of June: latest period 2 April – 30 June, the one before
# 2 January – 1 April.
TODAY = date(2025, 6, 30)
STAGES = ("hear", "buy", "use", "stay")


def context(product: str = "Cloud", *, reader=None, today: date = TODAY) -> KpiContext:
    return KpiContext(product=product, today=today, reader=reader)


def by_key(found: list[KpiCell]) -> dict[str, KpiCell]:
    return {cell.key: cell for cell in found}


# --- The registry and the cells -------------------------------------------------------------------

# Which app fills which slot: each is there when its app is installed, under the slot's stage.
FILLED_BY = {
    "time_to_close": "touchpoint.revenue",
    "time_to_revenue": "touchpoint.revenue",
    "lifetime_value": "touchpoint.revenue",
    "grr": "touchpoint.revenue",
    "nrr": "touchpoint.revenue",
    "time_to_first_value": "touchpoint.success",
    "uptime": "touchpoint.readiness",
}


def test_every_slot_an_installed_app_fills_is_registered_under_the_slots_stage():
    slots = {slot.key: slot for slot in SLOTS}
    assert set(FILLED_BY) <= set(slots)
    for key, app in FILLED_BY.items():
        kpi = kpis.get(key)
        if not apps.is_installed(app):
            continue
        assert kpi is not None, f"{app} does not register {key}"
        assert kpi.stage == slots[key].stage, key
        assert str(kpi.label) == str(slots[key].label), key
    # A KPI registered under a slot's key never lands in another stage (it would be shown twice).
    for kpi in kpis.all():
        if kpi.key in slots:
            assert kpi.stage == slots[kpi.key].stage, kpi.key
    assert len({slot.key for slot in SLOTS}) == len(SLOTS)
    assert {slot.stage for slot in SLOTS} <= set(STAGES)


@pytest.mark.django_db
@pytest.mark.parametrize("stage", STAGES)
def test_each_stage_shows_one_cell_per_slot_in_order(stage, admin_user):
    found = cells(stage, context(), admin_user)
    slots = [slot.key for slot in slots_for(stage)]
    # The slots first, in order; then the KPIs apps add beyond them (surveys' CSAT in "stay").
    assert [cell.key for cell in found][: len(slots)] == slots
    # With nothing recorded, every cell says "no data" and how to bring it: no value is made up.
    for cell in found:
        assert cell.value is None and not cell.has_data and not cell.error, cell.key
        assert str(cell.how_to_bring).strip(), cell.key


@pytest.mark.django_db
def test_hear_has_no_slots_and_an_unknown_stage_shows_nothing(admin_user):
    assert cells("hear", context(), admin_user) == []
    assert cells("launch-party", context(), admin_user) == []


@pytest.mark.django_db
def test_a_slot_no_app_fills_says_no_data_with_the_slots_way_to_bring_it(admin_user, monkeypatch):
    monkeypatch.setattr(kpis, "_items", {key: kpi for key, kpi in kpis._items.items() if key != "nps"})
    nps = by_key(cells("stay", context(), admin_user))["nps"]
    slot = next(slot for slot in SLOTS if slot.key == "nps")
    assert kpis.get("nps") is None
    assert nps.value is None and not nps.error
    assert nps.how_to_bring == slot.how_to_bring and nps.label == slot.label


@pytest.mark.django_db
def test_a_kpi_with_no_data_carries_how_to_bring_and_no_value(registered, admin_user):
    registered(Kpi(key="nps", label="NPS", stage="stay", unit="", compute=lambda c: None))
    registered(
        Kpi(key="csat", label="CSAT", stage="stay", unit="%", compute=lambda c: None, how_to_bring="Ask.")
    )
    found = by_key(cells("stay", context(), admin_user))
    slot = next(slot for slot in SLOTS if slot.key == "nps")
    # A KPI without its own words takes the slot's; one outside the slots keeps its own.
    assert found["nps"].value is None and found["nps"].how_to_bring == slot.how_to_bring
    assert found["csat"].value is None and found["csat"].how_to_bring == "Ask."
    assert not found["nps"].error and not found["csat"].error
    assert list(found)[-1] == "csat"  # after the stage's slots


@pytest.mark.django_db
def test_a_compute_that_raises_is_logged_and_shown_as_an_error_the_others_still_computed(
    registered, admin_user, caplog
):
    def broken(_context):
        raise ZeroDivisionError("boom")

    registered(Kpi(key="uptime", label="Uptime", stage="use", unit="%", compute=broken))
    registered(Kpi(key="extra_broken", label="Broken", stage="use", unit="", compute=broken, order=1))
    registered(
        Kpi(key="extra_fine", label="Fine", stage="use", unit="", compute=lambda c: KpiValue(7.0), order=2)
    )
    with caplog.at_level(logging.ERROR, logger="touchpoint.readiness.kpis"):
        found = by_key(cells("use", context(), admin_user))
    assert list(found) == [*(slot.key for slot in slots_for("use")), "extra_broken", "extra_fine"]
    for key in ("uptime", "extra_broken"):
        assert found[key].error and found[key].value is None, key
    assert found["uptime"].how_to_bring  # still says how to bring it
    assert found["extra_fine"].value == KpiValue(7.0) and not found["extra_fine"].error
    assert not found["time_to_fix"].error
    failures = [r for r in caplog.records if r.name == "touchpoint.readiness.kpis" and r.exc_info]
    assert {r.args[0] for r in failures} == {"uptime", "extra_broken"}


@pytest.mark.django_db
def test_a_kpi_whose_permission_the_person_lacks_is_left_out(registered, admin_user, csm):
    registered(
        Kpi(
            key="secret",
            label="Secret",
            stage="use",
            unit="",
            compute=lambda c: KpiValue(1.0),
            permission="readiness.add_uptimemonth",  # admins and leaders only
        )
    )
    assert "secret" in by_key(cells("use", context(), admin_user))
    assert "secret" not in by_key(cells("use", context(), csm))
    # A slot's KPI the person may not see is left out, slot and all: no "no data" that is not so.
    registered(
        Kpi(
            key="nps",
            label="NPS",
            stage="stay",
            unit="",
            compute=lambda c: KpiValue(40.0),
            permission="readiness.add_uptimemonth",
        )
    )
    assert "nps" not in by_key(cells("stay", context(), csm))
    assert by_key(cells("stay", context(), admin_user))["nps"].value == KpiValue(40.0)


@pytest.mark.django_db
def test_the_values_are_over_the_accounts_the_person_looking_reads(registered, csm, leader):
    seen = []

    def remember(found_context: KpiContext) -> KpiValue:
        seen.append(found_context.reader)
        return KpiValue(1.0)

    registered(Kpi(key="who", label="Who", stage="use", unit="", compute=remember))
    cells("use", context(), csm)
    cells("use", context(reader=leader), csm)  # a reader already given stays
    assert seen == [csm, leader]


# --- Trend ------------------------------------------------------------------------------------------

values = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False)


@given(
    value=values,
    previous=st.one_of(st.none(), values),
    better=st.sampled_from(["higher", "lower"]),
    flat_within=st.one_of(st.none(), st.floats(min_value=0, max_value=1e6)),
)
def test_trend_is_flat_within_one_percent_and_improving_follows_which_way_is_better(
    value, previous, better, flat_within
):
    kpi = KpiValue(value=value, previous=previous, better=better, flat_within=flat_within)
    if previous is None:
        assert kpi.trend == "" and kpi.improving is None
        return
    within = abs(previous) * 0.01 if flat_within is None else flat_within
    if abs(value - previous) <= within:
        assert kpi.trend == "flat" and kpi.improving is None
        return
    assert kpi.trend == ("up" if value > previous else "down")
    assert kpi.improving is ((value > previous) == (better == "higher"))
    # The same change judged the other way round reads the other way.
    other = "lower" if better == "higher" else "higher"
    assert KpiValue(value=value, previous=previous, better=other, flat_within=flat_within).improving is (
        not kpi.improving
    )


def test_trend_by_hand():
    assert KpiValue(100.0, 100.9).trend == "flat"
    assert KpiValue(100.0, 98.0).trend == "up" and KpiValue(100.0, 98.0).improving is True
    assert KpiValue(30.0, 45.0, better="lower").improving is True
    assert KpiValue(50.0, 45.0, better="lower").improving is False
    assert KpiValue(0.0, 0.0).trend == "flat" and KpiValue(1.0, 0.0).trend == "up"
    assert KpiValue(5.0).trend == "" and KpiValue(5.0).improving is None
    # A figure that says its own tolerance: 99.0 against 99.9 is within 1 % but not within 0.001.
    assert KpiValue(99.0, 99.9).trend == "flat"
    assert KpiValue(99.0, 99.9, flat_within=0.001).improving is False


# --- Uptime -----------------------------------------------------------------------------------------


def month(product: str, day: date, percent: str) -> None:
    UptimeMonth.objects.create(product=product, month=day, uptime_percent=Decimal(percent))


@pytest.mark.django_db
def test_uptime_is_the_mean_of_the_last_three_complete_months_against_the_three_before():
    for day, percent in [
        (date(2025, 6, 1), "10"),  # the running month: not over, left out
        (date(2025, 5, 1), "99.0"),
        (date(2025, 4, 1), "99.5"),
        (date(2025, 3, 1), "99.9"),
        (date(2025, 2, 1), "100"),
        (date(2025, 1, 1), "99.0"),
        (date(2024, 12, 1), "98.0"),
        (date(2024, 11, 1), "50"),  # older than both periods
    ]:
        month("Cloud", day, percent)
    month("Other", date(2025, 5, 1), "1")  # another product's month
    found = uptime(context("cloud", today=date(2025, 6, 15)))
    assert found is not None
    assert found.value == pytest.approx((99.0 + 99.5 + 99.9) / 3)
    assert found.previous == pytest.approx((100 + 99.0 + 98.0) / 3)
    # Within 1 % of 99.0, yet half the downtime: uptime's trend is its downtime's.
    assert found.count == 3 and found.better == "higher" and found.improving is True


@pytest.mark.django_db
def test_uptime_trend_is_flat_only_when_the_downtime_barely_moved():
    month("Cloud", date(2025, 2, 1), "99.9")
    month("Cloud", date(2025, 5, 1), "99.8")  # twice the downtime: worse, not flat
    assert uptime(context()).trend == "down"
    UptimeMonth.objects.filter(month=date(2025, 5, 1)).update(uptime_percent=Decimal("99.8995"))
    assert uptime(context()).trend == "flat"
    UptimeMonth.objects.filter(month=date(2025, 2, 1)).update(uptime_percent=Decimal("100"))
    assert uptime(context()).trend == "down"  # any downtime after none


@pytest.mark.django_db
def test_uptime_on_the_first_day_of_a_month_counts_the_month_just_ended():
    month("Cloud", date(2025, 6, 1), "99.0")
    month("Cloud", date(2025, 3, 1), "90.0")  # four months before July: the previous period
    found = uptime(context(today=date(2025, 7, 1)))
    assert found is not None and found.value == pytest.approx(99.0) and found.count == 1
    assert found.previous == pytest.approx(90.0)


@pytest.mark.django_db
def test_uptime_without_its_months_has_no_data():
    assert uptime(context()) is None
    month("Other", date(2025, 5, 1), "99.0")
    month("Cloud", date(2025, 6, 1), "99.0")  # only the running month
    month("Cloud", date(2024, 12, 1), "99.0")  # only the period before
    assert uptime(context()) is None


@pytest.mark.django_db
def test_uptime_of_a_map_without_a_product_is_every_products():
    month("Cloud", date(2025, 5, 1), "99.0")
    month("Other", date(2025, 5, 1), "97.0")
    found = uptime(context(""))
    assert found is not None and found.value == pytest.approx(98.0) and found.previous is None


@pytest.mark.django_db
def test_uptime_reaches_the_use_stage(admin_user):
    month("Cloud", date(2025, 5, 1), "99.5")
    cell = by_key(cells("use", context(), admin_user))["uptime"]
    assert cell.value is not None and cell.value.value == pytest.approx(99.5)


# --- Revenue ----------------------------------------------------------------------------------------

revenue = pytest.mark.skipif(not apps.is_installed("touchpoint.revenue"), reason="revenue is not installed")


@pytest.fixture
def own_book(own_books_only, csm):
    """A CSM who reads only their own accounts, and one account in their book and one outside it."""
    return AccountFactory(owner=csm), AccountFactory(owner=UserFactory(role=Role.CSM))


def deal(account, product: str = "Cloud", **days: date) -> None:
    SubscriptionFactory(account=account, product=product, **days)


@revenue
@pytest.mark.django_db
def test_time_to_close_is_the_median_of_the_deals_closed_in_the_period_for_the_product(admin_user):
    account = AccountFactory()
    for opened, closed in [
        (date(2025, 3, 1), date(2025, 4, 10)),  # 40 days
        (date(2025, 5, 1), date(2025, 5, 11)),  # 10
        (date(2025, 5, 20), date(2025, 6, 19)),  # 30
        (date(2025, 1, 10), date(2025, 2, 19)),  # 40, the period before
        (date(2025, 2, 1), date(2025, 3, 23)),  # 50, the period before
    ]:
        deal(account, deal_opened_on=opened, deal_closed_on=closed)
    deal(account, "CLOUD", deal_opened_on=date(2025, 6, 1), deal_closed_on=date(2025, 6, 21))  # 20
    deal(account, "Add-on", deal_opened_on=date(2025, 6, 1), deal_closed_on=date(2025, 6, 2))  # not Cloud
    deal(account, deal_closed_on=date(2025, 6, 2))  # never opened: left out
    deal(account, deal_opened_on=date(2025, 6, 10), deal_closed_on=date(2025, 7, 2))  # closes after today
    deal(account, deal_opened_on=date(2024, 1, 1), deal_closed_on=date(2024, 12, 1))  # long before
    cell = by_key(cells("buy", context(), admin_user))["time_to_close"]
    assert cell.value == KpiValue(value=25.0, previous=45.0, better="lower", count=4)  # 10, 20, 30, 40
    assert cell.value.improving is True


@revenue
@pytest.mark.django_db
def test_time_to_revenue_is_the_median_from_close_to_the_first_payment_in_the_period(admin_user):
    account = AccountFactory()
    for closed, paid in [
        (date(2025, 4, 1), date(2025, 4, 15)),  # 14 days, paid in the latest period
        (date(2025, 5, 11), date(2025, 5, 13)),  # 2
        (date(2025, 5, 11), date(2025, 5, 20)),  # 9
        (date(2025, 3, 13), date(2025, 4, 2)),  # 20, on the latest period's first day
        (date(2025, 6, 29), date(2025, 6, 30)),  # 1, today
        (date(2025, 2, 19), date(2025, 3, 1)),  # 10, the period before
        (date(2025, 3, 2), date(2025, 4, 1)),  # 30, on the period before's last day
    ]:
        deal(account, deal_closed_on=closed, first_paid_on=paid)
    deal(account, "Add-on", deal_closed_on=date(2025, 6, 1), first_paid_on=date(2025, 6, 30))
    deal(account, deal_closed_on=date(2025, 6, 1), first_paid_on=date(2025, 5, 30))  # paid before close
    deal(account, deal_closed_on=date(2025, 6, 1), first_paid_on=date(2025, 7, 1))  # after today
    deal(account, deal_closed_on=date(2024, 12, 1), first_paid_on=date(2025, 1, 1))  # before both
    cell = by_key(cells("buy", context(), admin_user))["time_to_revenue"]
    assert cell.value == KpiValue(value=9.0, previous=20.0, better="lower", count=5)  # 1, 2, 9, 14, 20
    assert cell.value.trend == "down" and cell.value.improving is True


@revenue
@pytest.mark.django_db
def test_deal_times_cover_only_the_readers_book(own_book, csm, leader):
    mine, theirs = own_book
    deal(mine, deal_opened_on=date(2025, 5, 1), deal_closed_on=date(2025, 5, 11))  # 10
    deal(theirs, deal_opened_on=date(2025, 5, 1), deal_closed_on=date(2025, 6, 30))  # 60
    assert by_key(cells("buy", context(), csm))["time_to_close"].value.value == 10.0
    assert by_key(cells("buy", context(), leader))["time_to_close"].value.value == 35.0


@revenue
@pytest.mark.django_db
def test_deal_times_without_dates_say_no_data(admin_user):
    deal(AccountFactory())  # a subscription without deal dates
    found = by_key(cells("buy", context(), admin_user))
    for key in ("time_to_close", "time_to_revenue"):
        assert found[key].value is None and not found[key].error and found[key].how_to_bring


def subscribe(account, product: str, mrr: str, started_on: date):
    from touchpoint.revenue import services

    return services.create_subscription(
        account=account, product=product, mrr=mrr, started_on=started_on, confirm=True
    )


@pytest.fixture
def cloud_history(own_books_only, csm):
    """Cloud over a year, worked by hand below; an Add-on product beside it that must not count.

    a (the CSM's): Cloud 1000 from June 2024, cut to 600 on 1 May 2025; Add-on 2000 cancelled 10 May.
    b (the CSM's): Cloud 500 from September 2024, raised to 800 on 15 May 2025.
    c (another's): Cloud 500 from October 2024, cancelled 1 June 2025.
    d (another's): Cloud 300 from 1 May 2025 (new in the period: outside its cohort).
    e (another's): Add-on only, 1000, cancelled 1 June 2025.
    """
    from touchpoint.revenue import services

    someone = UserFactory(role=Role.CSM)
    a, b = AccountFactory(owner=csm), AccountFactory(owner=csm)
    c, d, e = (AccountFactory(owner=someone) for _ in range(3))
    a_cloud = subscribe(a, "Cloud", "1000", date(2024, 6, 1))
    a_addon = subscribe(a, "Add-on", "2000", date(2024, 7, 1))
    b_cloud = subscribe(b, "cloud", "500", date(2024, 9, 1))  # the product in another case
    c_cloud = subscribe(c, "Cloud", "500", date(2024, 10, 1))
    e_addon = subscribe(e, "Add-on", "1000", date(2024, 7, 1))
    services.change_subscription(subscription=a_cloud, mrr=Decimal("600"), occurred_on=date(2025, 5, 1))
    subscribe(d, "Cloud", "300", date(2025, 5, 1))
    services.cancel_subscription(subscription=a_addon, canceled_on=date(2025, 5, 10))
    services.change_subscription(subscription=b_cloud, mrr=Decimal("800"), occurred_on=date(2025, 5, 15))
    services.cancel_subscription(subscription=c_cloud, canceled_on=date(2025, 6, 1))
    services.cancel_subscription(subscription=e_addon, canceled_on=date(2025, 6, 1))


@revenue
@pytest.mark.django_db
def test_retention_of_the_product_over_the_period(cloud_history, admin_user):
    found = by_key(cells("stay", context(), admin_user))
    # Cohort on 1 April: a 1000, b 500, c 500 = 2000. On 30 June: a 600, b 800, c 0 (d is new).
    assert found["nrr"].value == KpiValue(
        value=pytest.approx(1400 / 2000 * 100), previous=100.0, better="higher", count=3
    )
    # GRR counts each at most what it paid at the start: 600 + 500 + 0.
    assert found["grr"].value == KpiValue(
        value=pytest.approx(1100 / 2000 * 100), previous=100.0, better="higher", count=3
    )
    assert found["grr"].value.improving is False


@revenue
@pytest.mark.django_db
def test_retention_counts_the_accounts_paying_when_the_period_starts_and_what_they_pay_today(admin_user):
    from touchpoint.revenue import services

    leaves = subscribe(AccountFactory(), "Cloud", "1000", date(2025, 4, 1))  # paying when it starts
    subscribe(AccountFactory(), "Cloud", "5000", date(2025, 4, 2))  # new on its first day: not the cohort
    subscribe(AccountFactory(), "Cloud", "1000", date(2024, 1, 1))  # paying all along
    services.cancel_subscription(subscription=leaves, canceled_on=TODAY)  # leaves today: counts
    found = by_key(cells("stay", context(), admin_user))
    assert found["grr"].value == KpiValue(value=50.0, previous=100.0, better="higher", count=2)
    assert found["nrr"].value == KpiValue(value=50.0, previous=100.0, better="higher", count=2)


@revenue
@pytest.mark.django_db
def test_retention_covers_only_the_readers_book(cloud_history, csm):
    found = by_key(cells("stay", context(), csm))
    # Only a and b: 1500 at the start, 1400 at the end, 1100 kept.
    assert found["nrr"].value.value == round(1400 / 1500 * 100, 1)  # shown to one place
    assert found["grr"].value.value == round(1100 / 1500 * 100, 1)
    assert found["grr"].value.count == 2


@revenue
@pytest.mark.django_db
def test_retention_of_every_product_when_the_map_names_none(cloud_history, admin_user):
    found = by_key(cells("stay", context(""), admin_user))
    # Cohort on 1 April: a 3000, b 500, c 500, e 1000 = 5000; on 30 June a 600, b 800, c 0, e 0.
    assert found["nrr"].value.value == round(1400 / 5000 * 100, 1)
    assert found["grr"].value.value == round(1100 / 5000 * 100, 1)


@revenue
@pytest.mark.django_db
def test_lifetime_value_of_the_product(cloud_history, admin_user):
    cell = by_key(cells("stay", context(), admin_user))["lifetime_value"]
    # Twelve ended months, July 2024 – June 2025. Revenue churn: May 400 of 2000 (a's cut), June 500 of
    # 2200 (c leaves; a 600, b 800, c 500, d 300 at the start), nothing in the ten before.
    rate = (400 / 2000 + 500 / 2200) / 12
    arpa = (600 + 800 + 300) / 3
    assert cell.value is not None and cell.value.value == round(arpa / rate)  # money: no decimals
    assert cell.value.count == 3
    # On 1 April nothing had churned in the year before: no finite estimate, so no trend.
    assert cell.value.previous is None and cell.value.trend == ""


@revenue
@pytest.mark.django_db
def test_revenue_without_subscriptions_says_no_data(admin_user):
    found = by_key(cells("stay", context(), admin_user))
    for key in ("lifetime_value", "grr", "nrr"):
        assert found[key].value is None and not found[key].error and found[key].how_to_bring


@revenue
@pytest.mark.django_db
def test_a_voided_movement_does_not_count(admin_user):
    from touchpoint.revenue import services
    from touchpoint.revenue.models import MrrMovement

    subscription = subscribe(AccountFactory(), "Cloud", "1000", date(2024, 6, 1))
    services.change_subscription(subscription=subscription, mrr=Decimal("100"), occurred_on=date(2025, 5, 1))
    services.void_movement(
        movement=MrrMovement.objects.get(subscription=subscription, kind="contraction"),
        reason="typo",
        actor=admin_user,
    )
    found = by_key(cells("stay", context(), admin_user))
    assert found["grr"].value.value == pytest.approx(100.0)


# --- Time to first value ----------------------------------------------------------------------------

success = pytest.mark.skipif(not apps.is_installed("touchpoint.success"), reason="success is not installed")


@pytest.fixture
def first_values(own_books_only, csm):
    """Accounts that reached first value, with their start days (their placement's)."""
    from touchpoint.success.models import (
        AccountPlacement,
        MilestoneDefinition,
        MilestoneReached,
        SuccessFramework,
    )

    def framework(name: str, product: str) -> MilestoneDefinition:
        found = SuccessFramework.objects.create(name=name, key=name.lower(), product=product)
        MilestoneDefinition.objects.create(framework=found, key="setup", name="Set up", position=0)
        return MilestoneDefinition.objects.create(
            framework=found, key="first-value", name="First value", is_first_value=True, position=1
        )

    cloud, generic, other = (
        framework("CloudFW", "Cloud"),
        framework("Generic", ""),
        framework("OtherFW", "Other"),
    )
    someone = UserFactory(role=Role.CSM)

    def reached(owner, start: date, *reaches) -> None:
        account = AccountFactory(owner=owner)
        AccountPlacement.objects.create(account=account, started_on=start)
        for milestone, day in reaches:
            MilestoneReached.objects.create(
                account=account, milestone=milestone, reached_on=day, source="manual"
            )

    reached(csm, date(2025, 3, 1), (cloud, date(2025, 4, 10)))  # 40 days, latest period
    reached(csm, date(2025, 4, 1), (generic, date(2025, 4, 21)))  # 20: a framework for every product
    reached(someone, date(2025, 5, 1), (cloud, date(2025, 6, 30)))  # 60
    reached(someone, date(2025, 1, 1), (cloud, date(2025, 3, 2)))  # 60, the period before
    reached(someone, date(2025, 4, 1), (other, date(2025, 4, 2)))  # another product's framework
    # First value came long before (the later one is not a first time): in neither period.
    reached(someone, date(2024, 11, 1), (cloud, date(2024, 12, 1)), (generic, date(2025, 5, 1)))
    # A milestone that is not first value does not count.
    setup = MilestoneDefinition.objects.get(framework__key="cloudfw", key="setup")
    reached(someone, date(2025, 5, 1), (setup, date(2025, 5, 2)))


@success
@pytest.mark.django_db
def test_time_to_first_value_is_the_median_from_start_to_first_value_in_the_period(first_values, admin_user):
    cell = by_key(cells("use", context(), admin_user))["time_to_first_value"]
    assert cell.value == KpiValue(value=40.0, previous=60.0, better="lower", count=3)
    assert cell.value.improving is True


@success
@pytest.mark.django_db
def test_time_to_first_value_covers_only_the_readers_book(first_values, csm):
    cell = by_key(cells("use", context(), csm))["time_to_first_value"]
    assert cell.value == KpiValue(value=30.0, previous=None, better="lower", count=2)


@success
@pytest.mark.django_db
def test_time_to_first_value_without_milestones_reached_says_no_data(admin_user):
    cell = by_key(cells("use", context(), admin_user))["time_to_first_value"]
    assert cell.value is None and not cell.error and "first value" in str(cell.how_to_bring)
