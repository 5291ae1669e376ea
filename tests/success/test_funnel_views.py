"""The funnel page, its stalled-accounts drill-down and GET /api/v1/success/funnel."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.conftest import Api
from tests.factories import AccountFactory, FrameworkFactory, SegmentFactory
from touchpoint.success.models import AccountPlacement, MilestoneDefinition, MilestoneKind, MilestoneReached
from touchpoint.users.services import create_api_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def gap(csm):
    """Six accounts of csm started 100 days ago: five set up, four use it, one got the outcome."""
    framework = FrameworkFactory(name="Standard", key="standard")
    steps = [
        MilestoneDefinition.objects.create(framework=framework, key="setup", name="Set up", position=0),
        MilestoneDefinition.objects.create(framework=framework, key="used", name="Used weekly", position=1),
        MilestoneDefinition.objects.create(
            framework=framework,
            key="outcome",
            name="Cut support costs",
            position=2,
            kind=MilestoneKind.OUTCOME,
            stall_after_days=30,
        ),
    ]
    today = timezone.localdate()
    accounts = [AccountFactory(owner=csm, name=f"Gap account {i}") for i in range(6)]
    for account in accounts:
        AccountPlacement.objects.create(
            account=account, framework=framework, started_on=today - timedelta(days=100)
        )
    for count, step, day in ((5, steps[0], 95), (4, steps[1], 80), (1, steps[2], 40)):
        for account in accounts[:count]:
            MilestoneReached.objects.create(
                account=account, milestone=step, reached_on=today - timedelta(days=day), source="rule"
            )
    return framework, steps, accounts


def test_the_page_shows_the_steps_the_gap_and_a_chart(csm_client, gap, django_assert_max_num_queries):
    with django_assert_max_num_queries(20):
        response = csm_client.get(reverse("success-funnel"))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="funnel-steps"' in body and "Used weekly" in body and "<svg" in body
    assert 'class="funnel-outcome' in body and 'class="funnel-product' in body
    assert 'id="funnel-gap"' in body
    assert "reached “Used weekly”, the last product milestone, but not “Cut support costs” yet" in body
    assert "funnel-gap-start" in body  # the row after which the gap opens
    assert reverse("success-funnel-stalled", args=[gap[1][2].pk]) in body


def test_filters_narrow_the_funnel_and_a_bad_cohort_is_an_error_beside_the_field(csm_client, gap):
    other = SegmentFactory(name="Nobody here")
    body = csm_client.get(reverse("success-funnel"), {"segment": other.pk}).content.decode()
    assert "0 accounts started" in body
    response = csm_client.get(reverse("success-funnel"), {"cohort": "2026-13"})
    assert response.status_code == 200 and 'class="field-error"' in response.content.decode()


def test_the_drill_down_lists_stalled_accounts_with_owner_health_and_days(csm_client, csm, gap):
    _framework, steps, accounts = gap
    url = reverse("success-funnel-stalled", args=[steps[2].pk])
    response = csm_client.get(url, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    for account in accounts[1:4]:
        assert account.name in body and reverse("account-detail", args=[account.pk]) in body
    assert accounts[0].name not in body and accounts[5].name not in body
    assert str(csm) in body and "<td>80</td>" in body
    full = csm_client.get(url).content.decode()
    assert "<html" in full and accounts[1].name in full


def test_a_csm_of_another_book_sees_none_of_these_accounts(outsider, gap, own_books_only):
    from tests.conftest import logged_in_client

    client = logged_in_client(outsider)
    body = client.get(reverse("success-funnel-stalled", args=[gap[1][2].pk])).content.decode()
    assert "Gap account" not in body
    assert "0 accounts started" in client.get(reverse("success-funnel")).content.decode()


def test_the_api_gives_the_same_numbers(csm, gap):
    api = Api(create_api_key(user=csm)[1])
    response = api.get("/success/funnel", framework="standard")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["started"] == 6 and [s["reached"] for s in data["steps"]] == [5, 4, 1]
    assert [s["stalled"] for s in data["steps"]] == [1, 1, 3]
    assert data["steps"][2]["milestone"]["kind"] == "outcome"
    assert data["gap"]["accounts"] == 3 and data["gap"]["median_days"] == 40
    by_id = api.get("/success/funnel", framework=str(gap[0].pk), cohort=date.today().strftime("%Y-%m"))
    assert by_id.status_code == 200 and by_id.json()["framework"]["key"] == "standard"


def test_the_api_answers_404_for_an_unknown_framework_and_422_for_a_bad_cohort(csm, gap):
    api = Api(create_api_key(user=csm)[1])
    assert api.get("/success/funnel", framework="nope").status_code == 404
    assert api.get("/success/funnel", framework="9" * 30).status_code == 404
    for cohort in ("2026-13", "1899-12", "March", "2026-3"):
        bad = api.get("/success/funnel", framework="standard", cohort=cohort)
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "cohort", bad.json()
    unknown = api.get("/success/funnel", framework="standard", segment=999999)
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "segment"
