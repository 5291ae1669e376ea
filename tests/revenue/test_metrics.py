"""Revenue metrics: worked examples checked by hand, and the properties every history must keep."""

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from touchpoint.revenue import metrics
from touchpoint.revenue.metrics import Movement, Period

D = Decimal
JAN, FEB, MAR = (
    Period(date(2026, 1, 1), date(2026, 1, 31)),
    Period(date(2026, 2, 1), date(2026, 2, 28)),
    Period(date(2026, 3, 1), date(2026, 3, 31)),
)


def test_periods_are_calendar_months_and_quarters():
    assert metrics.periods(date(2026, 1, 15), date(2026, 3, 2)) == [JAN, FEB, MAR]
    quarters = metrics.periods(date(2025, 11, 5), date(2026, 4, 1), "quarter")
    assert [q.label for q in quarters] == ["2025-Q4", "2026-Q1", "2026-Q2"]
    assert quarters[1] == Period(date(2026, 1, 1), date(2026, 3, 31))
    assert JAN.label == "2026-01"


def test_worked_example_of_one_month():
    """By hand. Paying on 1 February: A 100, B 200, C 50, D 0 (churned in December).

    In February: A expands to 150, B contracts to 120, C churns, D comes back at 40, E is new at 30.
    Cohort (A, B, C) starts at 350 and ends at 150 + 120 + 0 = 270 → NRR 270/350 = 0.7714.
    Retained, each capped at its start: 100 + 120 + 0 = 220 → GRR 220/350 = 0.6286; revenue churn 0.3714.
    Logo churn: C of three = 1/3. All accounts: 350 → 150 + 120 + 40 + 30 = 340,
    and the movements add up: +50 −80 −50 +40 +30 = −10.
    """
    history = [
        Movement(1, date(2025, 6, 1), "new", D(100)),
        Movement(2, date(2025, 7, 1), "new", D(200)),
        Movement(3, date(2025, 8, 1), "new", D(50)),
        Movement(4, date(2025, 9, 1), "new", D(40)),
        Movement(4, date(2025, 12, 10), "churn", D(-40), "Budget cut"),
        Movement(1, date(2026, 2, 3), "expansion", D(50)),
        Movement(2, date(2026, 2, 10), "contraction", D(-80), "Low adoption"),
        Movement(3, date(2026, 2, 20), "churn", D(-50), "Budget cut"),
        Movement(4, date(2026, 2, 21), "reactivation", D(40)),
        Movement(5, date(2026, 2, 28), "new", D(30)),
    ]
    (feb,) = metrics.revenue_by_period(history, [FEB])
    assert (feb.opening_mrr, feb.closing_mrr, feb.customers) == (D(350), D(340), 4)
    assert (feb.cohort_accounts, feb.cohort_opening_mrr, feb.cohort_closing_mrr) == (3, D(350), D(270))
    assert round(feb.nrr, 4) == 0.7714 and round(feb.grr, 4) == 0.6286
    assert round(feb.revenue_churn, 4) == 0.3714 and round(feb.logo_churn, 4) == 0.3333
    assert feb.movements == {
        "new": D(30),
        "expansion": D(50),
        "contraction": D(-80),
        "churn": D(-50),
        "reactivation": D(40),
    }
    assert feb.closing_arr == D(340 * 12)
    losses = metrics.losses_by_reason(history, FEB.start, FEB.end)
    assert [(x.reason, x.churned_accounts, x.churned_mrr, x.contracted_mrr) for x in losses] == [
        ("Low adoption", 0, D(0), D(80)),
        ("Budget cut", 1, D(50), D(0)),
    ]


def test_an_empty_cohort_has_no_retention_rather_than_a_made_up_one():
    (jan,) = metrics.revenue_by_period([Movement(1, date(2026, 1, 5), "new", D(10))], [JAN])
    assert jan.grr is None and jan.nrr is None and jan.logo_churn is None
    assert jan.closing_mrr == D(10)


def test_lifetime_value_is_arpa_over_the_mean_monthly_revenue_churn():
    """By hand: two customers paying 300 in all at the end (ARPA 150); monthly revenue churn 2% and 4%
    (mean 3%) → lifetime value 150 / 0.03 = 5000."""
    history = [
        Movement(1, date(2025, 12, 1), "new", D(100)),
        Movement(2, date(2025, 12, 1), "new", D(100)),
        Movement(3, date(2025, 12, 1), "new", D(100)),
        Movement(3, date(2026, 1, 10), "contraction", D(-6)),  # 6 of 300: 2 %
        Movement(3, date(2026, 2, 10), "churn", D(-94)),  # 94 of 294 ≈ 32 %
        Movement(1, date(2026, 2, 12), "expansion", D(100)),
    ]
    months = metrics.revenue_by_period(history, [JAN, FEB])
    assert round(months[0].revenue_churn, 4) == 0.02
    lifetime = metrics.lifetime_value(months[-1], months)
    assert lifetime.arpa == D("150.00")
    expected_rate = (0.02 + 94 / 294) / 2
    assert abs(lifetime.monthly_revenue_churn - expected_rate) < 1e-9
    assert lifetime.value == (D(150) / D(str(expected_rate))).quantize(D("0.01"))
    no_churn = metrics.revenue_by_period(history[:3], [JAN])
    assert metrics.lifetime_value(no_churn[-1], no_churn).value is None  # nothing churned: no finite estimate


def test_durations_skip_missing_and_backwards_pairs():
    found = metrics.durations(
        [
            (date(2026, 1, 1), date(2026, 1, 11)),
            (date(2026, 1, 1), date(2026, 1, 31)),
            (None, date(2026, 1, 5)),
            (date(2026, 2, 1), date(2026, 1, 1)),
            (date(2026, 3, 1), date(2026, 3, 5)),
        ]
    )
    assert (found.count, found.median_days, round(found.mean_days, 4)) == (3, 10.0, round(44 / 3, 4))
    assert metrics.durations([]).median_days is None


# Histories: per account, a run of movements that never takes its MRR below zero, as services write them.
@st.composite
def histories(draw) -> list[Movement]:
    found = []
    for account in range(draw(st.integers(1, 8))):
        day = date(2025, 1, 1) + timedelta(days=draw(st.integers(0, 300)))
        mrr = D(0)
        for _step in range(draw(st.integers(1, 8))):
            amount = D(draw(st.integers(1, 5000)))
            if mrr == 0:
                kind, delta = (
                    ("new" if not any(m.account_id == account for m in found) else "reactivation"),
                    amount,
                )
            else:
                kind = draw(st.sampled_from(["expansion", "contraction", "churn"]))
                delta = {
                    "expansion": amount,
                    "contraction": -min(amount, mrr - 1) if mrr > 1 else -mrr,
                    "churn": -mrr,
                }[kind]
                if delta == -mrr:
                    kind = "churn"
                if delta == 0:
                    continue
            found.append(Movement(account, day, kind, delta, draw(st.sampled_from([None, "Budget cut"]))))
            mrr += delta
            day += timedelta(days=draw(st.integers(0, 90)))
    return found


@settings(max_examples=200, deadline=None)
@given(history=histories(), unit=st.sampled_from(["month", "quarter"]))
def test_retention_properties_hold_for_any_history(history, unit):
    spans = metrics.periods(date(2025, 1, 1), date(2026, 12, 31), unit)
    results = metrics.revenue_by_period(history, spans)
    for result in results:
        if result.grr is not None:
            assert 0 <= result.grr <= 1
            assert result.grr <= result.nrr + 1e-12
            assert 0 <= result.logo_churn <= 1
            if result.movements["expansion"] == 0 and result.movements["reactivation"] == 0:
                assert abs(result.grr - result.nrr) < 1e-12  # nothing grew: both count the same losses
        # The movements of a period add up to the change of MRR over it.
        assert result.opening_mrr + sum(result.movements.values()) == result.closing_mrr
    # And from one period to the next nothing is lost between them.
    for before, after in zip(results, results[1:], strict=False):
        assert before.closing_mrr == after.opening_mrr


@settings(max_examples=100, deadline=None)
@given(history=histories())
def test_groups_partition_the_whole(history):
    spans = metrics.periods(date(2025, 1, 1), date(2026, 6, 30))
    whole = metrics.revenue_by_period(history, spans)
    parts = metrics.revenue_by_group(
        history, {account: "odd" if account % 2 else "even" for account in range(8)}, spans
    )
    for index, result in enumerate(whole):
        assert sum(group[index].closing_mrr for group in parts.values()) == result.closing_mrr
        assert sum(group[index].cohort_accounts for group in parts.values()) == result.cohort_accounts
