"""What used to stay English on ja/ru/th pages: durations, churn reasons, import kinds, measure names."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.utils import timezone, translation
from django.utils.timesince import timesince, timeuntil

from tests.conftest import logged_in_client
from touchpoint.integrations.models import ImportJob
from touchpoint.revenue import services as revenue
from touchpoint.revenue.churn_reasons import BUILT_IN, reason_label
from touchpoint.revenue.models import ChurnReason

LATIN = re.compile(r"[A-Za-z]")


@pytest.mark.parametrize("language", ["ja", "ru", "th"])
def test_durations_are_in_the_language(language):
    now = timezone.now()
    with translation.override(language):
        assert not LATIN.search(timeuntil(now + timedelta(days=45), now))
        assert not LATIN.search(timesince(now - timedelta(days=400), now))
        assert not LATIN.search(str(naturaltime(now - timedelta(days=3))))
        assert not LATIN.search(str(naturaltime(now + timedelta(days=10))))
        assert not LATIN.search(str(naturaltime(now - timedelta(hours=2))))


def test_thai_durations_read_as_thai():
    now = timezone.now()
    with translation.override("th"):
        assert (
            timeuntil(now + timedelta(days=45), now) == "1\xa0เดือน 2\xa0สัปดาห์"
        )  # no break inside a number and its unit
        assert str(naturaltime(now - timedelta(days=3))) == "3\xa0วันที่ผ่านมา"


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["ja", "ru", "th"])
def test_built_in_churn_reasons_are_translated_and_renamed_ones_kept(language):
    seeded = set(ChurnReason.objects.values_list("name", flat=True))
    assert set(BUILT_IN) <= seeded  # the migration's names are the ones we translate
    with translation.override(language):
        for reason in ChurnReason.objects.filter(name__in=BUILT_IN):
            assert not LATIN.search(str(reason)), (language, reason.name, str(reason))
        assert reason_label("Our own words") == "Our own words"


@pytest.mark.django_db
def test_the_dashboard_and_the_account_show_translated_reasons(leader, account):
    subscription = revenue.create_subscription(
        account=account, product="Cloud", mrr=Decimal("100"), started_on=date(2026, 1, 5), confirm=True
    )
    revenue.cancel_subscription(
        subscription=subscription,
        canceled_on=date(2026, 2, 3),
        churn_reason=ChurnReason.objects.get(name="Budget cut"),
    )
    client = logged_in_client(leader)
    client.cookies["django_language"] = "ja"
    dashboard = client.get("/revenue/", {"start": "2026-01", "end": "2026-03"}).content.decode()
    panel = client.get(f"/accounts/{account.pk}/subscriptions/").content.decode()
    timeline = client.get(f"/accounts/{account.pk}/timeline/").content.decode()
    for html in (dashboard, panel, timeline):
        assert "予算削減" in html and "Budget cut" not in html


@pytest.mark.django_db
def test_revenue_dashboard_ratios_are_percentages(leader, account):
    subscription = revenue.create_subscription(
        account=account, product="Cloud", mrr=Decimal("1000"), started_on=date(2026, 1, 5), confirm=True
    )
    revenue.change_subscription(subscription=subscription, mrr=Decimal("900"), occurred_on=date(2026, 2, 10))
    client = logged_in_client(leader)
    html = client.get("/revenue/", {"start": "2026-01", "end": "2026-03"}).content.decode()
    grr = re.search(r'id="kpi-grr">([^<]*)<', html).group(1)
    assert grr == "100.0%"
    periods = html[html.index('id="periods"') :]
    assert "90.0%" in periods and "0.900" not in periods
    assert "Feb 2026" in periods  # the period in the reader's language, not 2026-02
    client.cookies["django_language"] = "ru"
    html = client.get("/revenue/", {"start": "2026-01", "end": "2026-03"}).content.decode()
    assert "90,0 %" in html[html.index('id="periods"') :]


@pytest.mark.django_db
def test_import_kinds_show_their_label(admin_user):
    ImportJob.objects.create(
        kind="subscriptions",
        original_name="subs.csv",
        stored_name="x.csv",
        encoding="utf-8",
        delimiter=",",
        created_by=admin_user,
    )
    client = logged_in_client(admin_user)
    client.cookies["django_language"] = "ja"
    html = client.get("/imports/").content.decode()
    row = html[html.index("subs.csv") :]
    with translation.override("ja"):
        assert str(ImportJob(kind="subscriptions").kind_label) in row[:400]
    assert "<td>subscriptions</td>" not in html
    assert ImportJob(kind="gone").kind_label == "gone"


def test_measure_names_are_translated():
    from touchpoint.health.templatetags.health_tags import measure_label

    with translation.override("ja"):
        assert measure_label("usage_trend") and not LATIN.search(measure_label("usage_trend"))
        assert measure_label("no_such_measure") == "no_such_measure"
