"""Charts in the reader's language: months, days, percentages, hover texts, colours and whole labels."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import translation

from touchpoint.health import charts as health_charts
from touchpoint.revenue import charts as revenue_charts
from touchpoint.revenue import metrics
from touchpoint.usage import charts as usage_charts
from touchpoint.web import charts, display


def texts(svg: str) -> list[str]:
    return re.findall(r"<text[^>]*>([^<]*)</text>", svg)


def titles(svg: str) -> list[str]:
    return re.findall(r"<title>([^<]*)</title>", svg)


def period_metrics(month: int, *, grr: float, nrr: float) -> metrics.PeriodMetrics:
    start = date(2026, month, 1)
    end = (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return metrics.PeriodMetrics(
        period=metrics.Period(start, end),
        opening_mrr=Decimal("1000"),
        closing_mrr=Decimal("1100"),
        movements={"new": Decimal("150"), "churn": Decimal("-50")},
        customers=10,
        cohort_accounts=10,
        cohort_opening_mrr=Decimal("1000"),
        cohort_closing_mrr=Decimal(str(nrr)) * 1000,
        retained_mrr=Decimal(str(grr)) * 1000,
        churned_accounts=1,
    )


@pytest.fixture
def periods():
    return [period_metrics(1, grr=0.95, nrr=1.02), period_metrics(2, grr=0.977, nrr=1.016)]


@pytest.mark.parametrize(
    ("django_format", "d3"),
    [
        ("n/j", "%-m/%-d"),
        ("j M Y", "%-d %b %Y"),
        ("Y年n月j日", "%Y年%-m月%-d日"),
        ("d.m.Y H:i", "%d.%m.%Y %H:%M"),
        (r"j \d\e F", "%-d de %B"),
        ("100%", "100%%"),
    ],
)
def test_django_date_formats_become_d3_patterns(django_format, d3):
    assert charts.d3_time_pattern(django_format) == d3


def test_the_time_locale_carries_the_languages_month_names():
    with translation.override("th"):
        locale = charts.time_locale()
    assert locale["shortMonths"][0] == "ม.ค." and locale["months"][11] == "ธันวาคม"
    with translation.override("ru"):
        assert charts.number_locale()["decimal"] == ","


def test_retention_is_in_percent_with_months_in_the_readers_language(periods):
    with translation.override("ja"):
        svg = revenue_charts.retention_svg(periods)
    labels = texts(svg)
    assert "2026年1月" in labels and "2026年2月" in labels
    assert not any(re.fullmatch(r"0\.\d+", label) for label in labels)  # no 0.95 ticks
    assert any(re.fullmatch(r"\d+%", label) for label in labels)  # 95%, 100%…
    assert "2026年2月 · GRR: 97.7%" in titles(svg)
    assert "2026年2月 · NRR: 101.6%" in titles(svg)


def test_russian_percentages_use_a_decimal_comma(periods):
    with translation.override("ru"):
        svg = revenue_charts.retention_svg(periods)
        assert display.percent(0.977) == "97,7 %"
    assert any("GRR: 97,7 %" in title for title in titles(svg))
    assert any(re.fullmatch(r"\d+ %", label) for label in texts(svg))  # the axis writes 98 % too


def test_dashboard_period_labels_and_quarters():
    quarter = metrics.Period(date(2026, 1, 1), date(2026, 3, 31))
    month = metrics.Period(date(2026, 3, 1), date(2026, 3, 31))
    with translation.override("en"):
        assert display.period_label(month) == "Mar 2026"
        assert display.period_label(quarter) == "Q1 2026"
    with translation.override("ja"):
        assert display.period_label(quarter) == "2026年 第1四半期"
    assert quarter.label == "2026-Q1"  # CSV and API keep the ISO form


def test_series_keep_their_colour_in_every_language():
    """Churn is red and contraction orange even where the translated names sort the other way."""
    losses = [metrics.ReasonLoss("Budget cut", 1, Decimal("300"), Decimal("200"))]
    for language in ("en", "ja", "ru", "th"):
        with translation.override(language):
            svg = revenue_charts.reasons_svg(losses, unknown="?")
            churn = revenue_charts._("Churn")
        bar = re.search(
            rf'<path aria-label="[^"]*{re.escape(churn)}: [^"]*" role="graphics-symbol"[^>]*fill="([^"]+)"',
            svg,
        )
        assert bar and bar.group(1) == "#c2413b", language


def test_long_labels_are_whole_and_built_in_reasons_translated():
    long_name = "Moved every team to an in-house tool built by the platform group"
    losses = [
        metrics.ReasonLoss(long_name, 1, Decimal("300"), Decimal("0")),
        metrics.ReasonLoss("Budget cut", 1, Decimal("100"), Decimal("0")),
    ]
    with translation.override("ja"):
        svg = revenue_charts.reasons_svg(losses, unknown="?")
    labels = texts(svg)
    assert long_name in labels  # not cut to "Moved every team to an…"
    assert "予算削減" in labels and "Budget cut" not in labels
    # Measured with the font the browser draws with (see FONT), so what fits in vl-convert fits on the page.
    assert re.search(r'font-family="[^"]*DejaVu Sans', svg)


def test_day_axes_follow_the_languages_month_day_format():
    series = [
        {"date": date(2026, 3, 1) + timedelta(days=i), "events": i, "active_users": 1} for i in range(20)
    ]
    with translation.override("th"):
        svg = usage_charts.events_per_day_svg(series)
    labels = texts(svg)
    assert any(re.fullmatch(r"\d{1,2} มี\.ค\.", label) for label in labels), labels
    assert not any(re.search(r"[A-Za-z]{3}", label) for label in labels), labels
    assert any(title.startswith("1 มี.ค. 2026:") for title in titles(svg))
    with translation.override("ja"):
        history = [(date(2026, 3, 1) + timedelta(days=i), 50.0 + i) for i in range(20)]
        svg = health_charts.history_svg(history, green_at=70, red_below=40)
    assert any(re.fullmatch(r"3月\d{1,2}日", label) for label in texts(svg)), texts(svg)


def test_charts_carry_no_english_descriptions_of_their_axes():
    with translation.override("th"):
        svg = health_charts.distribution_svg(
            {"green": 3}, {"green": "G", "yellow": "Y", "red": "R", "unknown": "U"}
        )
    described = " ".join(re.findall(r'aria-label="([^"]*)"', svg))
    assert "titled" not in described and "legend" not in described.lower()
    assert described  # the bars still carry their (translated) hover texts


def test_lift_chart_fills_its_card():
    series = {"Default v1": [{"decile": d, "lift": 1.0} for d in range(1, 11)]}
    svg = health_charts.lift_svg(series)
    assert re.search(r'<svg[^>]*width="1100"', svg)
