from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.conftest import logged_in_client
from tests.factories import AccountFactory
from tests.health.helpers import old_account, subscription, touch, usage
from touchpoint.health import services
from touchpoint.health.measures import registered_measures
from touchpoint.health.models import HealthScore, Scorecard, ScorecardVersion
from touchpoint.health.scoring import Definition, MeasureRule
from touchpoint.users.services import create_api_key

pytestmark = pytest.mark.django_db


def scored_account(**kwargs):
    """An account scored today and a week ago: a recent touch today, none a week ago."""
    today = timezone.localdate()
    account = old_account(**kwargs)
    subscription(account, started=today - timedelta(days=400), renewal=today + timedelta(days=200))
    touch(account, on=today - timedelta(days=60))
    services.recompute_health(day=today - timedelta(days=7))
    touch(account, on=today - timedelta(days=1))
    services.recompute_health(day=today)
    return account


def test_api_explains_the_score_and_what_moved_it(csm):
    account = scored_account()
    client = logged_in_client(csm)
    response = client.get(f"/api/v1/accounts/{account.pk}/health")
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {"score", "grade", "trend", "drivers"}
    drivers = {d["measure"]: d for d in body["drivers"]}
    assert drivers["engagement_recency"]["known"] and drivers["engagement_recency"]["change_7_days"] > 0
    # No usage: "not enough data", counted at its points without data (not left out).
    assert not drivers["usage_trend"]["known"] and drivers["usage_trend"]["value"] is None
    assert drivers["usage_trend"]["points"] == 50.0 and drivers["usage_trend"]["contribution"] > 0
    assert sum(d["contribution"] for d in body["drivers"]) == pytest.approx(body["score"], abs=0.5)
    assert body["trend"]["change_7_days"] > 0
    assert body["drivers"][0]["measure"] == "engagement_recency"  # what moved most comes first


def test_api_health_of_missing_account_is_404_json(csm):
    response = logged_in_client(csm).get("/api/v1/accounts/999999/health")
    assert response.status_code == 404 and response.json()["detail"]


def test_api_health_needs_authentication(account):
    from django.test import Client

    assert Client().get(f"/api/v1/accounts/{account.pk}/health").status_code == 401


def test_api_health_with_a_key(viewer):
    account = scored_account()
    key = create_api_key(user=viewer)[1]
    from django.test import Client

    response = Client().get(f"/api/v1/accounts/{account.pk}/health", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 200 and response.json()["grade"] in {"green", "yellow", "red"}


def test_account_panel_shows_contributions(csm):
    account = scored_account()
    response = logged_in_client(csm).get(reverse("account-health", args=[account.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Engagement recency" in body and "Not enough data" in body and "Since last week" in body


def test_account_page_loads_the_health_panel(csm):
    account = scored_account()
    body = logged_in_client(csm).get(reverse("account-detail", args=[account.pk])).content.decode()
    assert reverse("account-health", args=[account.pk]) in body


def test_portfolio_health_column_sorts_and_filters_by_grade(csm, django_assert_max_num_queries):
    healthy = scored_account(name="Healthy Co")
    today = timezone.localdate()
    quiet = old_account(name="Quiet Co")
    subscription(quiet, started=today - timedelta(days=400))
    touch(quiet, on=today - timedelta(days=200))
    touch(quiet, on=today - timedelta(days=2), kind="payment_failed")
    # Its usage fell away: an old customer (tenure earns it full points) that is leaving.
    usage(quiet, first=today - timedelta(days=59), last=today - timedelta(days=30), events=20)
    usage(quiet, first=today - timedelta(days=29), last=today, events=1)
    AccountFactory.create_batch(30, owner=csm)
    services.recompute_health(day=today)
    client = logged_in_client(csm)
    # +1: whether CSMs read every book (the portfolio shows a CSM what they may read).
    # +3: the saved views menu and whether the reader may share a view; +1 the book filter's setting.
    with django_assert_max_num_queries(16):
        response = client.get(reverse("portfolio"), {"sort": "health", "book": "all"})
    names = [a.name for a in response.context["page"].object_list]
    assert names.index("Quiet Co") < names.index("Healthy Co")
    assert 'class="sparkline"' in response.content.decode()
    response = client.get(reverse("portfolio"), {"grade": "red"})
    assert [a.name for a in response.context["page"].object_list] == ["Quiet Co"]
    assert healthy.name not in [a.name for a in response.context["page"].object_list]


def test_distribution_counts_grades(csm):
    scored_account()
    response = logged_in_client(csm).get(reverse("health-distribution"))
    assert response.status_code == 200
    assert "<svg" in response.content.decode()


def test_scorecard_editor_keeps_every_version_and_who_made_it(admin_user):
    services.ensure_default_scorecard()
    scorecard = Scorecard.objects.get()
    client = logged_in_client(admin_user)
    page = client.get(reverse("health-scorecard", args=[scorecard.pk]))
    form = page.context["form"]
    data = {
        n: form[n].value()
        for n in form.fields
        if form[n].value() is not None and form[n].value() is not False
    }
    data["engagement_recency__weight"] = "5"
    data["note"] = "Touches matter more"
    response = client.post(reverse("health-scorecard", args=[scorecard.pk]), data)
    assert response.status_code == 302, response.context["form"].errors
    versions = list(ScorecardVersion.objects.filter(scorecard=scorecard).order_by("number"))
    assert [v.number for v in versions] == [1, 2]
    assert versions[1].created_by == admin_user and versions[1].note == "Touches matter more"
    weights = {r["measure"]: r["weight"] for r in versions[1].definition["measures"]}
    assert weights["engagement_recency"] == 5
    assert {r["measure"]: r["weight"] for r in versions[0].definition["measures"]}["engagement_recency"] == 1


def test_scorecard_editor_shows_errors_beside_the_field(admin_user):
    client = logged_in_client(admin_user)
    services.ensure_default_scorecard()
    scorecard = Scorecard.objects.get()
    page = client.get(reverse("health-scorecard", args=[scorecard.pk]))
    form = page.context["form"]
    data = {
        n: form[n].value()
        for n in form.fields
        if form[n].value() is not None and form[n].value() is not False
    }
    data["billing__red"] = data["billing__green"]
    response = client.post(reverse("health-scorecard", args=[scorecard.pk]), data)
    assert response.status_code == 400
    assert response.context["form"].errors["billing__green"]


def test_csm_cannot_change_scorecards(csm):
    services.ensure_default_scorecard()
    scorecard = Scorecard.objects.get()
    client = logged_in_client(csm)
    assert client.get(reverse("health-scorecard", args=[scorecard.pk])).status_code == 200
    assert client.post(reverse("health-scorecard", args=[scorecard.pk]), {}).status_code == 403
    assert client.post(reverse("health-scorecards"), {"yaml": "scorecards: []"}).status_code == 403


def test_leader_creates_a_segment_scorecard(leader):
    from tests.factories import SegmentFactory

    segment = SegmentFactory(name="SMB")
    client = logged_in_client(leader)
    data = {
        "name": "SMB health",
        "segment": segment.pk,
        "grade_green": 70,
        "grade_red": 40,
        "engagement_recency__on": "on",
        "engagement_recency__weight": 1,
        "engagement_recency__green": 7,
        "engagement_recency__red": 30,
    }
    # The browser sends the prefilled numbers of every measure, on or off (other apps add measures too).
    for measure in [m.key for m in registered_measures() if m.key != "engagement_recency"]:
        data.update({f"{measure}__weight": 1, f"{measure}__green": 1, f"{measure}__red": 0})
    response = client.post(reverse("health-scorecard-new"), data)
    assert response.status_code == 302, response.context["form"].errors
    scorecard = Scorecard.objects.get(segment=segment)
    assert Definition.from_dict(scorecard.current_version.definition).rules == (
        MeasureRule("engagement_recency", 1.0, 7.0, 30.0, 50.0),  # points without data: the default
    )


def test_backtest_page_and_accepting_the_proposal(admin_user):
    response = logged_in_client(admin_user).get(reverse("health-backtest"), {"horizon": "30"})
    assert response.status_code == 200
    response = logged_in_client(admin_user).get(reverse("health-backtest"), {"every": "0"})
    assert response.status_code == 400 and response.context["form"].errors["every"]


def test_scores_are_read_only_for_everyone(leader):
    assert not leader.has_perm("health.change_healthscore") and leader.has_perm("health.view_healthscore")
    assert leader.has_perm("health.change_scorecard")
    assert HealthScore.objects.count() == 0


def test_a_scorecard_and_its_segment_cannot_be_deleted_under_its_versions(admin_user):
    from django.db.models import ProtectedError

    from tests.factories import SegmentFactory

    segment = SegmentFactory(name="Kept")
    services.save_scorecard(
        definition=Definition(rules=(MeasureRule("engagement_recency", 1, 7, 30),)),
        actor=admin_user,
        segment=segment,
    )
    with pytest.raises(ProtectedError):
        Scorecard.objects.filter(segment=segment).delete()
    with pytest.raises(ProtectedError):
        segment.delete()


def test_the_default_scorecard_is_made_by_a_migration_not_by_a_page(admin_user):
    import importlib
    from types import SimpleNamespace

    from django.apps import apps
    from django.db import connection

    from touchpoint.health.models import Scorecard, ScorecardVersion

    default = Scorecard.objects.get(segment__isnull=True)  # there after migrate, before any page
    assert default.current_version is not None and default.current_version.number == 1
    Scorecard.objects.update(current_version=None)
    ScorecardVersion.objects.all().delete()
    Scorecard.objects.all().delete()
    client = logged_in_client(admin_user)
    assert client.get(reverse("health-scorecards")).status_code == 200
    assert not Scorecard.objects.exists()  # a GET reads; it does not create
    migration = importlib.import_module("touchpoint.health.migrations.0002_default_scorecard")
    migration.create_default_scorecard(apps, SimpleNamespace(connection=connection))
    migration.create_default_scorecard(apps, SimpleNamespace(connection=connection))  # twice: still one
    default = Scorecard.objects.get(segment__isnull=True)
    assert default.name == "Default" and default.versions.count() == 1
