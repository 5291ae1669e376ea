"""Surveys' figures for other apps: the readiness NPS and CSAT KPIs, the health measure "nps"."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from tests.factories import AccountFactory
from touchpoint.health.measures import AsOf, get_measure, measured_sql
from touchpoint.readiness.kpis import KpiContext, kpis
from touchpoint.surveys import services
from touchpoint.surveys.measures import MEASURE

pytestmark = pytest.mark.django_db


def _answer(survey, account, score, days_ago):
    services.record_answer(
        survey=survey,
        account=account,
        contact=None,
        score=score,
        answered_at=timezone.now() - timedelta(days=days_ago),
        react=False,
    )


def _values(day) -> dict[int, float]:
    sql, params = measured_sql(AsOf(day), keys=[MEASURE])
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH {sql} SELECT account_id, value FROM measured WHERE measure = %s", [*params, MEASURE]
        )
        return dict(cursor.fetchall())


def test_the_nps_kpi_fills_the_readiness_slot(survey, account):
    kpi = kpis.get("nps")
    assert kpi is not None and kpi.stage == "stay"
    today = timezone.localdate()
    assert kpi.compute(KpiContext(product="", today=today)) is None  # no answers: the slot says how
    for score, days in ((10, 5), (10, 6), (3, 7), (0, 120), (9, 130)):
        _answer(survey, account, score, days)
    value = kpi.compute(KpiContext(product="", today=today))
    assert value.value == pytest.approx(100 * (2 - 1) / 3)
    assert value.previous == pytest.approx(0.0) and value.count == 3


def test_the_csat_kpi_is_the_average(account):
    csat = services.create_survey(name="CSAT", kind="csat")
    for score in (5, 4, 3):
        _answer(csat, account, score, 2)
    value = kpis.get("csat").compute(KpiContext(product="", today=timezone.localdate()))
    assert value.value == pytest.approx(4.0)


def test_the_health_measure_reads_a_year_of_nps_as_of_the_day(survey, account):
    assert get_measure(MEASURE).source == "surveys"
    other = AccountFactory()
    _answer(survey, account, 10, 10)
    _answer(survey, account, 2, 200)
    _answer(survey, account, 0, 400)  # older than a year: not counted
    csat = services.create_survey(name="CSAT", kind="csat")
    _answer(csat, other, 1, 3)  # CSAT is not NPS
    today = timezone.localdate()
    values = _values(today)
    assert values[account.pk] == pytest.approx(0.0)
    assert other.pk not in values
    # A past day reads only what was answered by then.
    assert _values(today - timedelta(days=100))[account.pk] == pytest.approx(-100.0)
