"""What surveys give the other apps' figures: the readiness KPIs NPS (the "nps" slot of "stay") and
CSAT (after it), and the health measure "NPS (12 months)". Registered from SurveysConfig.ready().

- KPIs: the score of the answers given in the latest `context.days` against the days before, over
  the accounts the reader may read (every survey of the kind; surveys are not per product, so the
  map's product does not narrow them). NPS as surveys/metrics.py computes it; CSAT the average 1–5.
- Health: per account, NPS of the answers of the 365 days up to the scored day (its end), as
  promoters minus detractors in points; an account without answers in that year is unknown.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from touchpoint.health.measures import AsOf, Measure, MeasureSource, register_measure, register_source
from touchpoint.readiness.kpis import Kpi, KpiContext, KpiValue, kpis
from touchpoint.surveys import metrics
from touchpoint.surveys.models import Answer, Survey, SurveyKind
from touchpoint.surveys.selectors import answers_for

HEALTH_WINDOW_DAYS = 365
MEASURE = "nps"


def _scores(context: KpiContext, kind: str, window: tuple) -> list[int]:
    answers = answers_for(context.reader) if context.reader is not None else Answer.objects.all()
    start, end = window
    return list(
        answers.filter(
            survey__kind=kind, answered_at__date__gte=start, answered_at__date__lte=end
        ).values_list("score", flat=True)
    )


def nps_kpi(context: KpiContext) -> KpiValue | None:
    latest = metrics.nps(_scores(context, SurveyKind.NPS, context.window()))
    if latest.score is None:
        return None
    previous = metrics.nps(_scores(context, SurveyKind.NPS, context.previous_window()))
    # NPS lives on −100…100: a move of under two points reads as flat, whatever the level.
    return KpiValue(
        value=latest.score, previous=previous.score, better="higher", count=latest.count, flat_within=2
    )


def csat_kpi(context: KpiContext) -> KpiValue | None:
    latest = metrics.csat(_scores(context, SurveyKind.CSAT, context.window()))
    if latest.average is None:
        return None
    previous = metrics.csat(_scores(context, SurveyKind.CSAT, context.previous_window()))
    return KpiValue(
        value=latest.average, previous=previous.average, better="higher", count=latest.count, flat_within=0.05
    )


def _nps_sql(at: AsOf) -> tuple[str, list]:
    answers, surveys = Answer._meta.db_table, Survey._meta.db_table
    start = timezone.make_aware(datetime.combine(at.day - timedelta(days=HEALTH_WINDOW_DAYS - 1), time.min))
    sql = f"""
        SELECT a.account_id,
               100.0 * (SUM(CASE WHEN a.score >= 9 THEN 1 ELSE 0 END)
                        - SUM(CASE WHEN a.score <= 6 THEN 1 ELSE 0 END)) / COUNT(*) AS nps
        FROM {answers} a JOIN {surveys} s ON s.id = a.survey_id
        WHERE s.kind = %s AND a.answered_at >= %s AND a.answered_at < %s
        GROUP BY a.account_id
    """
    return sql, [SurveyKind.NPS.value, connection.ops.adapt_datetimefield_value(start), at.end]


def register() -> None:
    kpis.add(
        Kpi(
            key="nps",
            label=_("NPS"),
            stage="stay",
            unit="",
            compute=nps_kpi,
            how_to_bring=_("Send NPS surveys, or import answers, and the score shows here."),
            order=5,
            decimals=0,
            permission="surveys.view_survey",
        )
    )
    kpis.add(
        Kpi(
            key="csat",
            label=_("CSAT"),
            stage="stay",
            unit=_("of 5"),
            compute=csat_kpi,
            how_to_bring=_("Send CSAT surveys (after support or onboarding), or import answers."),
            order=60,
            decimals=2,
            permission="surveys.view_survey",
        )
    )
    register_source(MeasureSource("surveys", columns=("nps",), query=_nps_sql, demo_step="surveys"))
    register_measure(
        Measure(
            MEASURE,
            label=_("NPS (12 months)"),
            source="surveys",
            column="nps",
            unit="",
            help=_(
                "Promoters minus detractors, in points, of the account's NPS answers of the last 12 months."
            ),
            weight=1,
            green=30,
            red=-30,
            position=60,
        )
    )
