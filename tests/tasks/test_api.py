"""/api/v1/tasks: filters, paging, one task, create, change, complete, cancel; per-row permissions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.conftest import Api
from tests.factories import AccountFactory
from touchpoint.accounts.models import TimelineEntry
from touchpoint.tasks.models import Task, TaskStatus
from touchpoint.users.services import create_api_key

pytestmark = pytest.mark.django_db


def _as(user) -> Api:
    return Api(create_api_key(user=user)[1])


def _day(days: int) -> str:
    return (timezone.localdate() + timedelta(days=days)).isoformat()


def _errors(response) -> set[str]:
    return {error["field"] for error in response.json()["errors"]}


def test_list_filters_by_owner_account_status_and_due_before(api, csm, account, teammate, make_task):
    soon = make_task(account, "Soon", days=1)
    make_task(account, "Later", days=20, owner=teammate)
    other = make_task(AccountFactory(owner=csm), "Elsewhere", days=2)
    done = make_task(account, "Done already", days=-1)
    from touchpoint.tasks import services

    services.complete_task(task=done, actor=csm)

    def titles(**params):
        response = api.get("/tasks", **params)
        assert response.status_code == 200, response.content
        return [item["title"] for item in response.json()["items"]]

    assert titles() == ["Done already", "Soon", "Elsewhere", "Later"]
    assert titles(owner=teammate.pk) == ["Later"]
    assert titles(account=other.account_id) == ["Elsewhere"]
    assert titles(status="done") == ["Done already"]
    assert titles(status="open", due_before=_day(5)) == ["Soon", "Elsewhere"]
    page = api.get("/tasks", limit=2, offset=1).json()
    assert page["count"] == 4 and [i["title"] for i in page["items"]] == ["Soon", "Elsewhere"]
    item = api.get(f"/tasks/{soon.pk}").json()
    assert item["account"] == {"id": account.pk, "name": account.name}
    assert item["owner"]["id"] == csm.pk and item["overdue"] is False and item["status"] == "open"


@pytest.mark.parametrize(
    "params, field",
    [({"status": "maybe"}, "status"), ({"due_before": "soon"}, "due_before"), ({"owner": 0}, "owner")],
)
def test_bad_filters_are_a_422_naming_them(api, params, field):
    response = api.get("/tasks", **params)
    assert response.status_code == 422 and field in _errors(response)


def test_the_list_hides_tasks_of_books_one_may_not_read(book, make_task, own_books_only):
    make_task(book.account, "Secret plan")
    assert _as(book.outsider).get("/tasks").json()["count"] == 0
    assert _as(book.teammate).get("/tasks").json()["count"] == 1
    task = Task.objects.get()
    assert _as(book.outsider).get(f"/tasks/{task.pk}").status_code == 403


def test_create_defaults_and_validation(api, csm, account, outsider):
    created = api.send("post", "/tasks", {"account": account.pk, "title": "Kickoff", "due_on": _day(3)})
    assert created.status_code == 201
    body = created.json()
    assert (body["owner"]["id"], body["priority"], body["type"], body["source"]) == (
        csm.pk,
        2,
        "other",
        "manual",
    )
    for bad, field in (
        ({"account": 999999, "title": "X", "due_on": _day(1)}, "account"),
        ({"account": account.pk, "title": " ", "due_on": _day(1)}, "title"),
        ({"account": account.pk, "title": "X", "due_on": "2099-01-01"}, "due_on"),
        ({"account": account.pk, "title": "X", "due_on": _day(1), "owner": outsider.pk}, "owner"),
        ({"account": account.pk, "title": "X", "due_on": _day(1), "owner": 999999}, "owner"),
        ({"account": account.pk, "title": "X", "due_on": _day(1), "priority": 5}, "priority"),
        ({"account": account.pk, "title": "X", "due_on": _day(1), "type": "party"}, "type"),
        ({"account": account.pk, "title": "X", "due_on": _day(1), "status": "done"}, "status"),
    ):
        response = api.send("post", "/tasks", bad)
        assert response.status_code == 422, (bad, response.content)
        assert field in _errors(response), (bad, response.json())
    assert Task.objects.count() == 1


def test_a_csm_cannot_create_on_an_account_outside_their_book(account, outsider, viewer):
    for person in (outsider, viewer):
        response = _as(person).send(
            "post", "/tasks", {"account": account.pk, "title": "X", "due_on": _day(1)}
        )
        assert response.status_code == 403
    assert not Task.objects.exists()


def test_patch_changes_only_what_is_sent(api, account, teammate, make_task):
    task = make_task(account, "Prep", notes="Keep me")
    response = api.send("patch", f"/tasks/{task.pk}", {"title": "Prep deck", "owner": teammate.pk})
    assert response.status_code == 200
    assert (response.json()["title"], response.json()["owner"]["id"], response.json()["notes"]) == (
        "Prep deck",
        teammate.pk,
        "Keep me",
    )
    assert api.send("patch", f"/tasks/{task.pk}", {"owner": None}).json()["owner"] is None
    refused = api.send("patch", f"/tasks/{task.pk}", {"title": None})
    assert refused.status_code == 422 and "title" in _errors(refused)
    assert api.send("patch", f"/tasks/{task.pk}", {"account": 5}).status_code == 422


def test_complete_and_cancel(api, account, make_task, outsider):
    task = make_task(account, "Call back")
    assert _as(outsider).send("post", f"/tasks/{task.pk}/complete").status_code == 403
    done = api.send("post", f"/tasks/{task.pk}/complete")
    assert done.status_code == 200 and done.json()["status"] == "done" and done.json()["closed_at"]
    again = api.send("post", f"/tasks/{task.pk}/complete")
    assert again.status_code == 422 and "status" in _errors(again)
    patched = api.send("patch", f"/tasks/{task.pk}", {"title": "Too late"})
    assert patched.status_code == 422
    other = make_task(account, "Site visit")
    no_reason = api.send("post", f"/tasks/{other.pk}/cancel", {"reason": " "})
    assert no_reason.status_code == 422 and "reason" in _errors(no_reason)
    cancelled = api.send("post", f"/tasks/{other.pk}/cancel", {"reason": "Went remote"})
    assert cancelled.json()["status"] == "cancelled" and cancelled.json()["cancel_reason"] == "Went remote"
    assert set(TimelineEntry.objects.filter(account=account).values_list("kind", flat=True)) == {
        "task_done",
        "task_cancelled",
    }
    assert Task.objects.get(pk=other.pk).status == TaskStatus.CANCELLED


def test_unknown_task_is_a_404(api):
    assert api.get("/tasks/424242").status_code == 404
    assert api.send("post", "/tasks/424242/complete").status_code == 404


@pytest.mark.parametrize("value", ["0", "1700000000", "+2026-01-01"])
def test_a_due_before_that_is_not_an_iso_date_is_refused(api, value):
    response = api.get("/tasks", due_before=value)
    assert response.status_code == 422 and "due_before" in _errors(response)
