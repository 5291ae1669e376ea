from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone

from tests.factories import SegmentFactory
from tests.health.helpers import TODAY, churn, old_account, subscription, touch, usage
from touchpoint.accounts.services import record_on_timeline
from touchpoint.health import services
from touchpoint.health.measures import AsOf, measured_sql
from touchpoint.health.models import HealthScore, Scorecard
from touchpoint.health.scoring import Definition, MeasureRule, score
from touchpoint.usage.models import KeyFeature

pytestmark = pytest.mark.django_db

DAY = TODAY


def measures_of(account, day=DAY) -> dict[str, float]:
    from django.db import connection

    sql, params = measured_sql(AsOf(day))
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH {sql} SELECT measure, value FROM measured WHERE account_id = %s", [*params, account.pk]
        )
        return dict(cursor.fetchall())


def test_measures_read_the_rollups_timeline_and_subscriptions():
    KeyFeature.objects.create(event="Report created")
    KeyFeature.objects.create(event="Alert configured")
    account = old_account()
    usage(account, first=DAY - timedelta(days=59), last=DAY - timedelta(days=30), events=10, users=2)
    usage(account, first=DAY - timedelta(days=29), last=DAY, events=5, users=3, features=("Report created",))
    touch(account, on=DAY - timedelta(days=12))
    subscription(account, started=DAY - timedelta(days=300), seats=6, renewal=DAY + timedelta(days=45))
    values = measures_of(account)
    assert values["usage_trend"] == pytest.approx(-50.0)
    assert values["breadth"] == pytest.approx(50.0)
    assert values["active_users"] == pytest.approx(50.0)  # 3 people on their busiest day of 6 seats
    assert values["engagement_recency"] == 12
    assert values["billing"] == 0
    assert values["renewal_proximity"] == 45


def test_account_without_data_is_unknown_not_zero():
    account = old_account()
    assert services.recompute_health(day=DAY) == 1
    row = HealthScore.objects.get(account=account, day=DAY)
    # Tenure is known from the first day, but alone it is no data to score on.
    assert row.score is None and row.grade == "unknown"
    assert row.measures.pop("tenure")["known"] == 1
    # Every other weighed measure is stored as "not enough data", with the points that state earns.
    assert row.measures and all(
        entry["known"] == 0 and "value" not in entry and entry["points"] == 50.0
        for entry in row.measures.values()
    )


def test_a_measure_without_data_keeps_its_weight_at_its_points_without_data(admin_user):
    """The newest accounts (no trend yet) must not look healthiest: a missing measure is not left out
    with the others rescaled, it counts at the scorecard's points for "no data"."""
    card = Definition(
        rules=(
            MeasureRule("engagement_recency", weight=1, green=5, red=15),
            MeasureRule("renewal_proximity", weight=3, green=120, red=30, missing=20),
        )
    )
    services.save_scorecard(definition=card, actor=admin_user, scorecard=services.ensure_default_scorecard())
    account = old_account()
    touch(account, on=DAY - timedelta(days=1))  # recency: 100 points; no subscription: no renewal date
    services.recompute_health(day=DAY)
    row = HealthScore.objects.get(account=account, day=DAY)
    assert row.score == pytest.approx((1 * 100 + 3 * 20) / 4)
    assert row.measures["renewal_proximity"] == {"known": 0, "points": 20.0, "weight": 3.0}
    assert row.measures["engagement_recency"]["known"] == 1


def test_stored_score_matches_the_python_scoring_for_random_accounts():
    rng = random.Random(7)
    KeyFeature.objects.create(event="Report created")
    accounts = []
    for _ in range(12):
        account = old_account()
        if rng.random() < 0.8:
            usage(
                account,
                first=DAY - timedelta(days=59),
                last=DAY - timedelta(days=30),
                events=rng.randint(1, 30),
            )
            usage(
                account,
                first=DAY - timedelta(days=29),
                last=DAY,
                events=rng.randint(0, 30),
                users=rng.randint(0, 9),
                features=("Report created",) if rng.random() < 0.5 else (),
            )
        if rng.random() < 0.7:
            touch(account, on=DAY - timedelta(days=rng.randint(0, 120)))
        if rng.random() < 0.6:
            subscription(
                account,
                started=DAY - timedelta(days=400),
                seats=rng.randint(1, 20),
                renewal=DAY + timedelta(days=rng.randint(1, 300)),
            )
        accounts.append(account)
    services.recompute_health(day=DAY)
    definition = Definition.from_dict(Scorecard.objects.get().current_version.definition)
    for account in accounts:
        row = HealthScore.objects.get(account=account, day=DAY)
        expected = score(measures_of(account), definition)
        if expected is None:
            assert row.score is None
        else:
            assert row.score == pytest.approx(expected)
        known = {key for key, entry in row.measures.items() if entry["known"]}
        assert known == set(measures_of(account))
        assert set(row.measures) == {rule.measure for rule in definition.rules}


def test_segment_scorecard_scores_its_accounts_and_the_default_the_rest(admin_user):
    enterprise = SegmentFactory(name="Enterprise")
    inside = old_account(segment=enterprise)
    outside = old_account()
    for account in (inside, outside):
        touch(account, on=DAY - timedelta(days=10))
    only_recency = Definition(rules=(MeasureRule("engagement_recency", weight=1, green=5, red=15),))
    version = services.save_scorecard(definition=only_recency, actor=admin_user, segment=enterprise)
    services.recompute_health(day=DAY)
    assert HealthScore.objects.get(account=inside).score == pytest.approx(50.0)
    assert HealthScore.objects.get(account=inside).version_id == version.pk
    # The default scorecard: green at 14 days for recency, every other measure without data.
    default = Definition.from_dict(Scorecard.objects.get(segment=None).current_version.definition)
    assert HealthScore.objects.get(account=outside).score == pytest.approx(
        score(measures_of(outside), default)
    )
    assert HealthScore.objects.get(account=outside).measures["engagement_recency"]["points"] == 100.0


def test_recompute_replaces_the_days_scores():
    account = old_account()
    touch(account, on=DAY - timedelta(days=100))
    services.recompute_health(day=DAY)
    touch(account, on=DAY - timedelta(days=1))
    services.recompute_health(day=DAY)
    assert HealthScore.objects.filter(account=account, day=DAY).get().measures["engagement_recency"][
        "points"
    ] == pytest.approx(100.0)


def test_no_later_data_leaks_into_a_past_score():
    KeyFeature.objects.create(event="Report created")
    account = old_account()
    usage(account, first=DAY - timedelta(days=59), last=DAY, events=10, users=2)
    touch(account, on=DAY - timedelta(days=40))
    sub = subscription(account, started=DAY - timedelta(days=300), seats=4, renewal=DAY + timedelta(days=20))
    services.recompute_health(day=DAY)
    before = HealthScore.objects.get(account=account, day=DAY)

    # Everything that happens after the day: more usage with key features, a fresh meeting, a failed
    # payment, a churn, new contacts.
    later = DAY + timedelta(days=1)
    usage(
        account,
        first=later,
        last=later + timedelta(days=20),
        events=500,
        users=9,
        features=("Report created",),
    )
    touch(account, on=later)
    record_on_timeline(
        account=account,
        kind="payment_failed",
        title="Payment failed",
        occurred_at=timezone.make_aware(timezone.datetime.combine(later, timezone.datetime.min.time())),
    )
    churn(sub, on=later + timedelta(days=5))
    services.recompute_health(day=DAY)
    after = HealthScore.objects.get(account=account, day=DAY)
    assert (after.score, after.grade, after.measures) == (before.score, before.grade, before.measures)
    assert before.measures  # the row was not empty to begin with


def test_churned_subscription_no_longer_counts_for_seats_or_billing():
    account = old_account()
    sub = subscription(account, started=DAY - timedelta(days=300), seats=4)
    churn(sub, on=DAY - timedelta(days=10))
    assert "billing" not in measures_of(account)
    assert "billing" in measures_of(account, DAY - timedelta(days=11))


def test_past_due_from_the_timeline_as_of_the_day():
    account = old_account()
    subscription(account, started=DAY - timedelta(days=300))
    failed_at = timezone.make_aware(timezone.datetime(2026, 6, 20, 9))
    record_on_timeline(account=account, kind="payment_failed", title="Payment failed", occurred_at=failed_at)
    assert measures_of(account, DAY)["billing"] == 1
    assert measures_of(account, DAY - timedelta(days=11))["billing"] == 0
    record_on_timeline(
        account=account, kind="payment_recovered", title="Paid", occurred_at=failed_at + timedelta(days=3)
    )
    assert measures_of(account, DAY)["billing"] == 0


def test_a_grade_change_records_one_event_per_changed_account_and_a_rerun_none():
    from touchpoint.events.models import DomainEvent

    steady, falling = old_account(), old_account()
    services.recompute_health(day=DAY - timedelta(days=1))
    assert not DomainEvent.objects.filter(kind="health.grade_changed").exists()  # unknown → unknown
    HealthScore.objects.filter(account=falling).update(grade="green")
    HealthScore.objects.filter(account=steady).update(grade="unknown")
    services.recompute_health(day=DAY)
    [event] = DomainEvent.objects.filter(kind="health.grade_changed")
    assert (event.account_id, event.subject_type, event.subject_id) == (
        falling.pk,
        "accounts.account",
        falling.pk,
    )
    assert event.payload == {
        "day": DAY.isoformat(),
        "grade": "unknown",
        "previous_grade": "green",
        "score": None,
    }
    from django.db import connection

    if connection.vendor == "postgresql":  # the set-based insert is stamped with its transaction too
        assert event.transaction_id > 0
    services.recompute_health(day=DAY)  # the same day again: nothing changed since the last run
    assert DomainEvent.objects.filter(kind="health.grade_changed").count() == 1


def test_a_first_real_grade_counts_as_a_change_from_unknown():
    from touchpoint.events.models import DomainEvent

    account = old_account()
    touch(account, on=DAY - timedelta(days=2))
    services.recompute_health(day=DAY)
    grade = HealthScore.objects.get(account=account, day=DAY).grade
    assert grade != "unknown"
    [event] = DomainEvent.objects.filter(kind="health.grade_changed")
    assert (event.payload["previous_grade"], event.payload["grade"]) == ("unknown", grade)
    assert event.payload["score"] == pytest.approx(HealthScore.objects.get(account=account, day=DAY).score)


def test_a_rolled_back_recompute_leaves_no_grade_event():
    from django.db import transaction

    from touchpoint.events.models import DomainEvent

    account = old_account()
    touch(account, on=DAY - timedelta(days=2))
    with pytest.raises(RuntimeError), transaction.atomic():
        services.recompute_health(day=DAY)
        assert DomainEvent.objects.filter(kind="health.grade_changed").exists()
        raise RuntimeError
    assert not DomainEvent.objects.exists()


def test_a_backfill_of_past_days_records_no_grade_event():
    from touchpoint.events.models import DomainEvent

    account = old_account()
    touch(account, on=DAY - timedelta(days=42))
    services.recompute_health(day=DAY)
    DomainEvent.objects.all().delete()
    services.recompute_health(day=DAY - timedelta(days=40))  # history, after today was scored
    assert HealthScore.objects.get(account=account, day=DAY - timedelta(days=40)).grade != "unknown"
    assert not DomainEvent.objects.exists()


def test_tenure_counts_from_customer_since_and_alone_gives_no_score():
    young = old_account()
    young.created_at = timezone.make_aware(datetime.combine(DAY - timedelta(days=20), time(9)))
    young.save(update_fields=["created_at"])
    veteran = old_account()
    assert (
        measures_of(young)["tenure"] == 20
        and measures_of(veteran)["tenure"] == (DAY - date(2025, 1, 1)).days + 1  # created at midnight
    )
    services.recompute_health(day=DAY)
    assert HealthScore.objects.get(account=young).score is None  # tenure only: not enough to score
    touch(young, on=DAY - timedelta(days=1))
    touch(veteran, on=DAY - timedelta(days=1))
    services.recompute_health(day=DAY)
    # Same touch, same everything else: the 20-day-old customer scores lower than the veteran.
    assert HealthScore.objects.get(account=young).score < HealthScore.objects.get(account=veteran).score
    assert HealthScore.objects.get(account=young).measures["tenure"]["points"] == 0.0  # red at 60 days


def test_usage_trend_waits_for_two_complete_windows():
    newcomer, regular = old_account(), old_account()
    # The newcomer started 45 days ago: its "previous 30 days" are half empty, not a quiet month.
    usage(newcomer, first=DAY - timedelta(days=44), last=DAY, events=10)
    usage(regular, first=DAY - timedelta(days=80), last=DAY, events=10)
    assert "usage_trend" not in measures_of(newcomer)
    assert measures_of(regular)["usage_trend"] == pytest.approx(0.0)


def new_customer(days_ago: int, *, events_per_day: int, segment=None):
    account = old_account(segment=segment)
    account.created_at = timezone.make_aware(datetime.combine(DAY - timedelta(days=days_ago), time(0)))
    account.save(update_fields=["created_at"])
    if events_per_day:
        usage(account, first=DAY - timedelta(days=days_ago), last=DAY, events=events_per_day)
    return account


def test_early_activity_compares_a_new_customer_with_the_segments_norm_in_its_first_90_days():
    smb, enterprise = SegmentFactory(), SegmentFactory()
    # Five new SMB customers doing 4–12 events a day: the norm (median) is 8.
    smb_customers = [new_customer(30, events_per_day=n, segment=smb) for n in (4, 6, 8, 10, 12)]
    idle = new_customer(40, events_per_day=0, segment=smb)
    # Two new enterprise customers: too few for a norm of their own; every segment's median is used.
    lone = new_customer(30, events_per_day=50, segment=enterprise)
    new_customer(30, events_per_day=60, segment=enterprise)
    too_new = new_customer(10, events_per_day=8, segment=smb)
    settled = new_customer(200, events_per_day=8, segment=smb)

    # The segment's norm is its median of the six SMB rates (0, 4, 6, 8, 10, 12): 7 a day.
    assert measures_of(smb_customers[2])["early_activity"] == pytest.approx(100 * 8 / 7)
    assert measures_of(idle)["early_activity"] == 0.0
    # Every segment's median of the eight (0, 4, 6, 8, 10, 12, 50, 60): 9 a day.
    assert measures_of(lone)["early_activity"] == pytest.approx(100 * 50 / 9)
    # Ten days say nothing yet; after 90 days the usage measures speak instead.
    assert "early_activity" not in measures_of(too_new)
    assert "early_activity" not in measures_of(settled)
    # Only what was known on the day: a month earlier the SMB customers had not started.
    assert "early_activity" not in measures_of(smb_customers[2], day=DAY - timedelta(days=31))
