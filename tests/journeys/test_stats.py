"""Journey stats: counts per journey and step from aggregates, A/B arms with Wilson intervals."""

from __future__ import annotations

import math

import pytest
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from tests.factories import AccountFactory, ContactFactory
from tests.journeys.ui_support import make_journey
from touchpoint.journeys.models import (
    DeliverySettings,
    Enrollment,
    EnrollmentStatus,
    OutboxRow,
    OutboxStatus,
    StepVisit,
    subject_key_of,
)
from touchpoint.journeys.stats import journey_stats, wilson_interval


@pytest.mark.parametrize(
    ("successes", "trials", "low", "high"),
    [
        # Reference values (Wilson 1927; as computed by statsmodels' proportion_confint(method="wilson")).
        (5, 10, 0.2366, 0.7634),
        (0, 10, 0.0, 0.2775),
        (10, 10, 0.7225, 1.0),
        (81, 263, 0.2553, 0.3662),
    ],
)
def test_wilson_interval_matches_reference_values(successes, trials, low, high):
    got = wilson_interval(successes, trials)
    assert got is not None
    assert math.isclose(got[0], low, abs_tol=1e-4) and math.isclose(got[1], high, abs_tol=1e-4)


def test_wilson_interval_needs_trials():
    assert wilson_interval(0, 0) is None
    with pytest.raises(ValueError):
        wilson_interval(11, 10)


@given(st.integers(min_value=1, max_value=10_000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_interval_holds_the_observed_rate_inside_zero_and_one(pair):
    successes, trials = pair
    low, high = wilson_interval(successes, trials)
    assert 0 <= low <= successes / trials <= high <= 1
    # More trials at the same rate never widen it.
    wider = wilson_interval(successes, trials)
    narrower = wilson_interval(successes * 4, trials * 4)
    assert narrower[1] - narrower[0] <= wider[1] - wider[0] + 1e-12


def _enrollment(journey, version, *, status, step_id="", arm=None, contact=None):
    account = contact.account if contact else AccountFactory()
    enrollment = Enrollment.objects.create(
        journey=journey,
        version=version,
        account=account,
        contact=contact,
        subject_key=subject_key_of(account.pk, contact.pk if contact else None),
        status=status,
        step_id=step_id,
        choices={"ab": arm} if arm else {},
    )
    return enrollment


def _world():
    journey = make_journey(versions=2, live=True)
    v1, v2 = journey.versions.get(number=1), journey.versions.get(number=2)
    people = []
    for index, (status, step_id, arm, version) in enumerate(
        [
            (EnrollmentStatus.ACTIVE, "wait-a-week", None, v2),
            (EnrollmentStatus.ACTIVE, "wait-a-week", None, v2),
            (EnrollmentStatus.ACTIVE, "call", None, v2),
            (EnrollmentStatus.CONVERTED, "", "A", v2),
            (EnrollmentStatus.CONVERTED, "", "A", v2),
            (EnrollmentStatus.COMPLETED, "", "A", v2),
            (EnrollmentStatus.COMPLETED, "", "B", v2),
            (EnrollmentStatus.EXITED, "", None, v1),
        ]
    ):
        contact = ContactFactory(email=f"person{index}@example.com")
        enrollment = _enrollment(journey, version, status=status, step_id=step_id, arm=arm, contact=contact)
        StepVisit.objects.create(enrollment=enrollment, version=version, step_id="say-hello")
        outbox_status = [OutboxStatus.SENT, OutboxStatus.SENT, OutboxStatus.FAILED, OutboxStatus.SUPPRESSED][
            index % 4
        ]
        OutboxRow.objects.create(
            enrollment=enrollment,
            step_id="say-hello",
            kind="email",
            recipient_key=f"contact:{contact.pk}",
            account=contact.account,
            contact=contact,
            status=outbox_status,
            opened_at="2026-01-02T00:00:00Z" if index == 0 else None,
        )
        people.append(enrollment)
    return journey, v1, v2


@pytest.mark.django_db
def test_stats_count_each_status_step_and_message():
    journey, v1, v2 = _world()
    stats = journey_stats(journey=journey)
    assert (stats.entered, stats.waiting, stats.converted, stats.completed, stats.exited) == (8, 3, 2, 2, 1)
    assert (stats.sent, stats.failed_messages, stats.suppressed, stats.opened) == (4, 2, 2, 1)
    by_step = {step.step_id: step for step in stats.steps}
    assert list(by_step)[:3] == ["say-hello", "wait-a-week", "healthy"]  # the definition's order
    assert by_step["say-hello"].entered == 8 and by_step["say-hello"].sent == 4
    assert by_step["wait-a-week"].waiting == 2 and by_step["call"].waiting == 1
    assert by_step["call"].depth == 1 and by_step["nudge-a"].depth == 1
    arms = {arm.arm: arm for arm in stats.arms}
    assert (arms["A"].entered, arms["A"].converted, arms["B"].entered, arms["B"].converted) == (3, 2, 1, 0)
    assert arms["A"].interval is not None and arms["A"].interval[0] < 2 / 3 < arms["A"].interval[1]


@pytest.mark.django_db
def test_stats_filter_by_version():
    journey, v1, v2 = _world()
    only_v1 = journey_stats(journey=journey, version=v1)
    assert (only_v1.entered, only_v1.exited, only_v1.waiting) == (1, 1, 0)
    assert {step.step_id: step.entered for step in only_v1.steps}["say-hello"] == 1


@pytest.mark.django_db
def test_the_stats_page_is_a_few_queries_whatever_the_size(csm_client, django_assert_max_num_queries):
    journey, v1, v2 = _world()
    with django_assert_max_num_queries(16):
        response = csm_client.get(reverse("journey-stats", args=[journey.key]))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-number="entered">8<' in html and 'id="arm-ab-A"' in html
    assert "tracking is off" in html and 'data-number="opened"' not in html
    for _ in range(20):
        _enrollment(journey, v2, status=EnrollmentStatus.CONVERTED, arm="B")
    with django_assert_max_num_queries(16):
        csm_client.get(reverse("journey-stats", args=[journey.key]))


@pytest.mark.django_db
def test_opens_and_clicks_show_when_tracking_is_on(csm_client):
    journey, v1, v2 = _world()
    settings = DeliverySettings.load()
    settings.track_opens_and_clicks = True
    settings.save()
    html = csm_client.get(reverse("journey-stats", args=[journey.key]) + "?version=2").content.decode()
    assert 'data-number="opened">1<' in html and "tracking is off" not in html
    assert 'data-number="entered">7<' in html  # version 2 only
