"""Tasks about something other than an account (another app's row, named by `about_label` and linked
back by `about_url`): made by the service for an owner, shown on every page and in the API, read and
changed by their owner, their creator, leaders and admins."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from tests.conftest import Api, logged_in_client
from tests.factories import UserFactory
from touchpoint.accounts.models import TimelineEntry
from touchpoint.events.models import DomainEvent
from touchpoint.tasks import selectors, services
from touchpoint.tasks.models import Task, TaskStatus
from touchpoint.users.models import AuditLogEntry
from touchpoint.users.permissions import can
from touchpoint.users.roles import Role
from touchpoint.users.services import create_api_key

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
LINK = "/readiness/touchpoints/7/"


def _about(owner, *, actor=None, days=1, title="Close the gap: onboarding email", about_url=LINK):
    """A task about a (pretend) readiness touchpoint, for `owner`, made by `actor` (default the owner)."""
    return services.create_task(
        account=None,
        title=title,
        due_on=timezone.localdate() + timedelta(days=days),
        owner=owner,
        actor=actor or owner,
        about_label="Launch map · Onboarding email",
        about_url=about_url,
    )


def _api(user) -> Api:
    return Api(create_api_key(user=user)[1])


# --- The service ------------------------------------------------------------------------------------


def test_a_task_about_no_account_is_recorded_without_a_timeline(csm):
    task = _about(csm)
    assert (task.account, task.owner, task.status) == (None, csm, TaskStatus.OPEN)
    assert (task.about_label, task.about_url) == ("Launch map · Onboarding email", LINK)
    event = DomainEvent.objects.get(kind="task.created")
    assert (event.account_id, event.subject_type, event.subject_id) == (None, "tasks.task", task.pk)
    assert AuditLogEntry.objects.filter(
        action="create", object_type="tasks.task", object_id=str(task.pk)
    ).exists()
    services.complete_task(task=task, actor=csm)
    assert DomainEvent.objects.get(kind="task.completed").account_id is None
    assert not TimelineEntry.objects.exists()


def test_cancelling_a_task_about_no_account_needs_no_timeline(csm):
    task = services.cancel_task(task=_about(csm), reason="Done another way", actor=csm)
    assert task.status == TaskStatus.CANCELLED and not TimelineEntry.objects.exists()
    assert DomainEvent.objects.get(kind="task.cancelled").subject_id == task.pk


def test_a_task_about_no_account_must_belong_to_someone(csm):
    with pytest.raises(ValidationError) as error:
        _about(None, actor=csm)
    assert "owner" in error.value.message_dict
    task = _about(csm)
    with pytest.raises(ValidationError) as error:
        services.update_task(task=task, owner=None, actor=csm)
    assert "owner" in error.value.message_dict
    assert not Task.objects.filter(owner__isnull=True).exists()


def test_an_inactive_owner_is_refused(csm):
    gone = UserFactory(role=Role.CSM, is_active=False)
    with pytest.raises(ValidationError) as error:
        _about(gone, actor=csm)
    assert "owner" in error.value.message_dict


def test_a_task_about_nothing_is_refused_naming_the_field(csm):
    with pytest.raises(ValidationError) as error:
        services.create_task(
            account=None, title="About what?", due_on=timezone.localdate(), owner=csm, actor=csm
        )
    assert "about_label" in error.value.message_dict
    assert not Task.objects.exists()


def test_the_database_refuses_a_task_about_nothing(csm):
    with pytest.raises(IntegrityError), transaction.atomic():
        Task.objects.create(title="About what?", due_on=timezone.localdate(), owner=csm)


@pytest.mark.parametrize(
    "url",
    ["http://evil.example/", "//evil.example/", "/\\evil.example/", "javascript:alert(1)", "relative/x"],
)
def test_a_link_back_leads_only_to_this_site(csm, url):
    with pytest.raises(ValidationError) as error:
        _about(csm, about_url=url)
    assert "about_url" in error.value.message_dict
    assert not Task.objects.exists()


@pytest.mark.parametrize("url", ["//evil.example/", "/\\evil.example/", "http://evil.example/"])
def test_the_database_refuses_a_link_to_another_host(csm, url):
    with pytest.raises(IntegrityError), transaction.atomic():
        Task.objects.create(
            title="Close the gap", due_on=timezone.localdate(), owner=csm, about_label="X", about_url=url
        )


def test_asking_twice_for_the_same_link_while_it_is_open_gives_the_same_task(csm, leader):
    first = _about(csm)
    again = _about(csm, actor=leader, title="Another title", days=5)
    assert again.pk == first.pk and again.title == first.title  # unchanged
    assert Task.objects.count() == 1
    assert DomainEvent.objects.filter(kind="task.created").count() == 1
    # Someone else's task on the same link is theirs; once the first is closed, a new one is made.
    assert _about(leader).pk != first.pk
    services.complete_task(task=first, actor=csm)
    assert _about(csm).pk != first.pk
    assert Task.objects.filter(owner=csm, status=TaskStatus.OPEN).count() == 1


def test_the_old_signature_still_makes_account_tasks(csm, account):
    task = services.create_task(account=account, title="Call", due_on=timezone.localdate(), actor=csm)
    assert (task.account, task.owner, task.about_label, task.about_url) == (account, csm, "", "")
    assert DomainEvent.objects.get(kind="task.created").account_id == account.pk


# --- Who reads and changes it -----------------------------------------------------------------------


def test_its_owner_creator_leaders_and_admins_read_and_change_it_and_nobody_else(book):
    task = _about(book.owner, actor=book.teammate)
    allowed = {
        "owner": True,
        "teammate": True,
        "leader": True,
        "admin": True,
        "outsider": False,
        "viewer": False,
    }
    for name, expected in allowed.items():
        person = getattr(book, name)
        assert can(person, "tasks.view_task", task) is expected, name
        assert can(person, "tasks.change_task", task) is expected, name
        # The lists ask the same rule as a filter.
        assert Task.objects.filter(selectors.readable_tasks_q(person), pk=task.pk).exists() is expected, name
        assert Task.objects.filter(selectors.changeable_tasks_q(person), pk=task.pk).exists() is expected, (
            name
        )


def test_a_viewer_who_owns_one_reads_and_closes_it(book):
    task = _about(book.viewer, actor=book.leader)
    client = logged_in_client(book.viewer)
    assert client.get(reverse("task-detail", args=[task.pk])).status_code == 200
    response = client.post(reverse("task-complete", args=[task.pk]))
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE


def test_account_tasks_keep_their_rules(book, make_task):
    task = make_task(book.account, "Account task")
    for name in ("owner", "teammate", "leader", "admin"):
        assert can(getattr(book, name), "tasks.change_task", task)
    assert not can(book.outsider, "tasks.change_task", task)
    assert not can(book.viewer, "tasks.change_task", task)
    assert can(book.viewer, "tasks.view_task", task)


# --- Pages ------------------------------------------------------------------------------------------


def test_it_is_on_its_owners_task_list_with_its_link_back(csm_client, csm, account, make_task):
    task = _about(csm)
    make_task(account, "An account task")
    body = csm_client.get(reverse("tasks")).content.decode()
    assert "Close the gap: onboarding email" in body and "An account task" in body
    assert f'<a href="{LINK}">Launch map · Onboarding email</a>' in body
    assert reverse("task-detail", args=[task.pk]) in body
    assert f'hx-post="{reverse("task-complete", args=[task.pk])}"' in body  # the owner may close it
    found = csm_client.get(reverse("tasks") + "?q=launch+map").content.decode()
    assert "Close the gap" in found and "An account task" not in found


def test_its_owner_closes_it_from_the_list(csm_client, csm):
    task = _about(csm)
    response = csm_client.post(reverse("task-complete", args=[task.pk]), {"view": "row"}, **HTMX)
    assert response.status_code == 200 and f'id="row-task-{task.pk}"' in response.content.decode()
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE


def test_it_is_on_its_owners_home_page(csm_client, csm, outsider):
    mine = _about(csm, days=-1)
    _about(outsider, title="Someone else's gap")
    body = csm_client.get(reverse("my-day")).content.decode()
    assert "Close the gap: onboarding email" in body and "Someone else" not in body
    assert f'id="home-task-{mine.pk}"' in body and f'<a href="{LINK}">' in body


def test_a_leaders_home_shows_their_teams_tasks_about_no_account(leader, csm, outsider):
    csm.reports_to = leader
    csm.save(update_fields=["reports_to"])
    _about(csm, title="Team gap")
    _about(outsider, title="Not my team's gap")
    body = logged_in_client(leader).get(reverse("my-day")).content.decode()
    assert "Team gap" in body and "Not my team" not in body
    assert f'hx-post="{reverse("task-complete", args=[Task.objects.get(owner=csm).pk])}"' in body


def test_its_page_shows_the_link_back_and_no_account(csm_client, csm):
    task = _about(csm)
    response = csm_client.get(reverse("task-detail", args=[task.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert f'<dd><a href="{LINK}">Launch map · Onboarding email</a></dd>' in body
    assert 'id="edit-task"' in body and '<option value="" selected>' not in body  # an owner stays


def test_its_page_edits_the_plan(csm_client, csm, viewer):
    task = _about(csm)
    response = csm_client.post(
        reverse("task-detail", args=[task.pk]),
        {
            "title": "Rewrite the email",
            "due_on": (timezone.localdate() + timedelta(days=3)).isoformat(),
            "owner": str(viewer.pk),  # anyone with a role may own a task about no account
            "priority": "1",
            "type": "other",
            "notes": "",
        },
    )
    assert response.status_code == 302, response.content.decode()
    task.refresh_from_db()
    assert (task.title, task.owner) == ("Rewrite the email", viewer)


def test_a_csm_who_is_not_its_owner_cannot_open_it_and_a_leader_can(csm, outsider, leader):
    task = _about(csm)
    outsider_client = logged_in_client(outsider)
    assert outsider_client.get(reverse("task-detail", args=[task.pk])).status_code == 403
    assert outsider_client.post(reverse("task-complete", args=[task.pk])).status_code == 403
    assert "Close the gap" not in outsider_client.get(reverse("tasks") + "?owner=").content.decode()
    leader_client = logged_in_client(leader)
    assert leader_client.get(reverse("task-detail", args=[task.pk])).status_code == 200
    assert "Close the gap" in leader_client.get(reverse("tasks") + "?owner=").content.decode()


def test_an_account_task_may_also_say_what_it_is_about(csm_client, csm, account):
    task = services.create_task(
        account=account,
        title="Fix the invoice",
        due_on=timezone.localdate(),
        actor=csm,
        about_label="Invoice 42",
        about_url="/invoices/42/",
    )
    detail = csm_client.get(reverse("task-detail", args=[task.pk])).content.decode()
    assert account.name in detail and '<a href="/invoices/42/">Invoice 42</a>' in detail
    listed = csm_client.get(reverse("tasks")).content.decode()
    assert reverse("account-detail", args=[account.pk]) in listed and '<a href="/invoices/42/">' in listed
    panel = csm_client.get(reverse("account-tasks", args=[account.pk]), **HTMX).content.decode()
    assert '<a href="/invoices/42/">Invoice 42</a>' in panel


# --- The API ----------------------------------------------------------------------------------------


def test_the_api_shows_it_with_no_account_and_its_link_back(csm, outsider, leader):
    task = _about(csm)
    listed = _api(csm).get("/tasks")
    assert listed.status_code == 200
    (item,) = listed.json()["items"]
    assert (item["id"], item["account"], item["about_label"], item["about_url"]) == (
        task.pk,
        None,
        "Launch map · Onboarding email",
        LINK,
    )
    assert _api(outsider).get("/tasks").json()["count"] == 0
    assert _api(outsider).get(f"/tasks/{task.pk}").status_code == 403
    assert _api(leader).get(f"/tasks/{task.pk}").json()["about_url"] == LINK
    done = _api(csm).send("post", f"/tasks/{task.pk}/complete")
    assert done.status_code == 200 and done.json()["status"] == "done"


def test_the_api_makes_one_for_an_owner(csm, leader, outsider):
    body = {
        "title": "Close the gap",
        "due_on": timezone.localdate().isoformat(),
        "owner": csm.pk,
        "about_label": "Launch map · Onboarding email",
        "about_url": LINK,
    }
    made = _api(leader).send("post", "/tasks", body)
    assert made.status_code == 201, made.content
    assert made.json()["account"] is None and made.json()["owner"]["id"] == csm.pk
    again = _api(leader).send("post", "/tasks", body)
    assert again.json()["id"] == made.json()["id"]
    refused = _api(leader).send("post", "/tasks", {**body, "about_url": "//evil.example/"})
    assert refused.status_code == 422
    assert {error["field"] for error in refused.json()["errors"]} == {"about_url"}
    # Someone who may not read the open task on that link is not shown it.
    assert _api(outsider).send("post", "/tasks", body).status_code == 403
    assert Task.objects.count() == 1
    nobody = _api(leader).send("post", "/tasks", {k: v for k, v in body.items() if k != "owner"})
    assert nobody.status_code == 422
    assert {error["field"] for error in nobody.json()["errors"]} == {"owner"}
