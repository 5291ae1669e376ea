"""The Playbooks panel of the account page, the Playbooks page and the API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.conftest import logged_in_client
from tests.factories import AccountFactory, SubscriptionFactory
from touchpoint.playbooks.models import PlaybookRule, PlaybookRun, RunStatus
from touchpoint.playbooks.services import start_playbook
from touchpoint.tasks.models import Task, TaskStatus
from touchpoint.tasks.services import complete_task

pytestmark = pytest.mark.django_db


def test_the_panel_shows_running_playbooks_with_progress_and_next_step(shipped, csm_client, account, csm):
    run = start_playbook(account=account, playbook=shipped["Onboarding"], actor=csm)
    complete_task(task=run.run_steps.get(position=1).task, actor=csm)
    response = csm_client.get(reverse("account-playbooks", args=[account.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Onboarding" in html and "1 of 4 steps done" in html
    assert "Next:" in html and "Training session" in html
    assert 'value="stop"' in html and 'value="start"' in html


def test_a_viewer_sees_the_panel_without_forms(shipped, viewer_client, account, csm):
    start_playbook(account=account, playbook=shipped["Onboarding"], actor=csm)
    html = viewer_client.get(reverse("account-playbooks", args=[account.pk])).content.decode()
    assert "Onboarding" in html and 'value="stop"' not in html and 'value="start"' not in html
    assert (
        viewer_client.post(reverse("account-playbooks", args=[account.pk]), {"action": "start"}).status_code
        == 403
    )


def test_starting_the_renewal_playbook_by_hand_counts_back_from_the_next_renewal(
    shipped, csm_client, account
):
    renewal = timezone.localdate() + timedelta(days=200)
    SubscriptionFactory(account=account, renewal_date=renewal)
    response = csm_client.post(
        reverse("account-playbooks", args=[account.pk]),
        {"action": "start", "playbook": shipped["Renewal"].pk},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    run = PlaybookRun.objects.get(account=account)
    assert run.anchor_date == renewal
    assert sorted(Task.objects.filter(account=account).values_list("due_on", flat=True))[
        0
    ] == renewal - timedelta(days=120)


def test_starting_twice_shows_the_error_beside_the_form(shipped, csm_client, account):
    url = reverse("account-playbooks", args=[account.pk])
    data = {"action": "start", "playbook": shipped["Onboarding"].pk}
    assert csm_client.post(url, data).status_code == 200
    response = csm_client.post(url, data)
    assert response.status_code == 422
    assert "already running" in response.content.decode()
    assert PlaybookRun.objects.count() == 1


@pytest.mark.parametrize(
    "data",
    [{"action": "launch"}, {"action": "stop", "run": "x"}, {"action": "start", "playbook": "999999"}],
)
def test_bad_input_is_a_4xx(shipped, csm_client, account, data):
    response = csm_client.post(reverse("account-playbooks", args=[account.pk]), data)
    assert 400 <= response.status_code < 500


def test_stopping_from_the_panel_needs_a_reason_and_cancels_open_tasks(shipped, csm_client, account, csm):
    run = start_playbook(account=account, playbook=shipped["Onboarding"], actor=csm)
    url = reverse("account-playbooks", args=[account.pk])
    response = csm_client.post(url, {"action": "stop", "run": run.pk, "reason": ""})
    assert response.status_code == 422
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING
    assert csm_client.post(url, {"action": "stop", "run": run.pk, "reason": "Churned"}).status_code == 200
    run.refresh_from_db()
    assert run.status == RunStatus.STOPPED
    assert set(Task.objects.filter(account=account).values_list("status", flat=True)) == {
        TaskStatus.CANCELLED
    }


def test_a_run_of_another_account_cannot_be_stopped_here(shipped, csm_client, account, csm):
    other = start_playbook(account=AccountFactory(owner=csm), playbook=shipped["Onboarding"], actor=csm)
    response = csm_client.post(
        reverse("account-playbooks", args=[account.pk]), {"action": "stop", "run": other.pk, "reason": "x"}
    )
    assert response.status_code == 404


def test_the_playbooks_page_lists_steps_and_rules(shipped, csm_client, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        html = csm_client.get(reverse("playbooks")).content.decode()
    for text in ("Onboarding", "Risk escalation", "Executive business review", "-120", "Health turned red"):
        assert text in html
    assert 'action="/playbooks/rules/' not in html  # a CSM reads the rules, leaders change them


def test_a_leader_switches_a_rule_off(shipped, leader):
    rule = PlaybookRule.objects.get(kind="new_account")
    client = logged_in_client(leader)
    assert (
        f'action="{reverse("playbook-rule", args=[rule.pk])}"'
        in client.get(reverse("playbooks")).content.decode()
    )
    response = client.post(
        reverse("playbook-rule", args=[rule.pk]),
        {f"rule-{rule.pk}-playbook": shipped["Executive business review"].pk},
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.is_active, rule.playbook.name) == (False, "Executive business review")
    assert (
        client.post(reverse("playbook-rule", args=[rule.pk]), {f"rule-{rule.pk}-playbook": "x"}).status_code
        == 400
    )


def test_the_yaml_export_downloads(shipped, csm_client):
    response = csm_client.get(reverse("playbook-export", args=[shipped["Renewal"].pk]))
    assert response["Content-Disposition"] == 'attachment; filename="renewal.yaml"'
    assert response.content.decode().startswith("name: Renewal")


# --- API ---------------------------------------------------------------------------------------


def test_api_lists_playbooks_with_steps(shipped, api):
    body = api.get("/playbooks").json()
    renewal = next(p for p in body["items"] if p["name"] == "Renewal")
    assert [s["day_offset"] for s in renewal["steps"]] == [-120, -90, -60, -30]
    assert body["count"] == 4


def test_api_starts_lists_and_stops_runs(shipped, api, account):
    created = api.send(
        "post", f"/accounts/{account.pk}/playbook-runs", {"playbook": shipped["Onboarding"].pk}
    )
    assert created.status_code == 201, created.content
    run = created.json()
    assert (run["status"], run["done"], run["total"]) == ("running", 0, 4)
    listed = api.get(f"/accounts/{account.pk}/playbook-runs", status="running").json()
    assert [r["id"] for r in listed["items"]] == [run["id"]]
    stopped = api.send("post", f"/accounts/{account.pk}/playbook-runs/{run['id']}/stop", {"reason": "Paused"})
    assert stopped.status_code == 200 and stopped.json()["status"] == "stopped"
    again = api.send("post", f"/accounts/{account.pk}/playbook-runs/{run['id']}/stop", {"reason": "Paused"})
    assert again.status_code == 422


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"playbook": 999999}, "playbook"),
        ({"playbook": "1"}, "playbook"),
        ({"playbook": 1, "extra": 1}, "extra"),
    ],
)
def test_api_bad_start_is_422_naming_the_field(shipped, api, account, body, field):
    response = api.send("post", f"/accounts/{account.pk}/playbook-runs", body)
    assert response.status_code == 422
    assert field in {e["field"] for e in response.json()["errors"]}


def test_api_runs_follow_the_book(shipped, viewer_api, account, csm, own_books_only):
    from tests.conftest import Api
    from tests.factories import UserFactory
    from touchpoint.users.services import create_api_key

    outsider = Api(create_api_key(user=UserFactory())[1])
    assert outsider.get(f"/accounts/{account.pk}/playbook-runs").status_code == 403
    assert viewer_api.get(f"/accounts/{account.pk}/playbook-runs").status_code == 200
    response = viewer_api.send(
        "post", f"/accounts/{account.pk}/playbook-runs", {"playbook": shipped["Onboarding"].pk}
    )
    assert response.status_code == 403
