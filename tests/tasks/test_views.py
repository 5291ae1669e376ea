"""Task pages: the account panel, the tasks page, the task's page, and closing from each (htmx and plain posts)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.conftest import logged_in_client
from tests.factories import AccountFactory
from touchpoint.accounts.models import TimelineEntry
from touchpoint.tasks.models import Task, TaskStatus

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def _new(**extra):
    return {
        "action": "add",
        "new-title": "Prepare the QBR",
        "new-due_on": (timezone.localdate() + timedelta(days=3)).isoformat(),
        "new-owner": "",
        "new-priority": "1",
        "new-type": "review",
        "new-notes": "Usage is up",
        **extra,
    }


# --- The account panel ------------------------------------------------------------------------------


def test_the_panel_lists_open_tasks_with_overdue_marked_and_recently_closed(csm_client, account, make_task):
    make_task(account, "Late call", days=-3)
    make_task(account, "Later review", days=10)
    done = make_task(account, "Old kickoff", days=-20)
    from touchpoint.tasks import services

    services.cancel_task(task=done, reason="Merged into the QBR", actor=account.owner)
    body = csm_client.get(reverse("account-tasks", args=[account.pk]), **HTMX).content.decode()
    open_part, closed_part = body.split('id="account-closed-tasks"')
    assert "Late call" in open_part and "Later review" in open_part
    assert open_part.index("Late call") < open_part.index("Later review")
    assert open_part.count("is-overdue") == 1 and "Overdue" in open_part
    assert "Old kickoff" in closed_part and "Merged into the QBR" in closed_part


def test_adding_a_task_from_the_panel(csm_client, csm, account):
    response = csm_client.post(reverse("account-tasks", args=[account.pk]), _new(), **HTMX)
    assert response.status_code == 200
    task = Task.objects.get(account=account)
    assert (task.title, task.owner, task.priority, task.type, task.notes) == (
        "Prepare the QBR",
        csm,  # no owner chosen: the account's owner
        1,
        "review",
        "Usage is up",
    )
    assert "Prepare the QBR" in response.content.decode()


def test_the_add_form_shows_errors_beside_the_fields(csm_client, account, outsider):
    bad = _new(**{"new-title": " ", "new-due_on": "2099-01-01", "new-owner": str(outsider.pk)})
    response = csm_client.post(reverse("account-tasks", args=[account.pk]), bad, **HTMX)
    assert response.status_code == 200  # htmx swaps only what succeeds
    body = response.content.decode()
    assert body.count('class="field-error"') >= 2  # title required, owner not a choice
    assert not Task.objects.exists()
    # The service's own check (a due date years away) lands beside its field too.
    response = csm_client.post(
        reverse("account-tasks", args=[account.pk]), _new(**{"new-due_on": "2099-01-01"}), **HTMX
    )
    assert "five years" in response.content.decode()
    assert not Task.objects.exists()


def test_plain_posts_work_without_htmx(csm_client, account, make_task):
    response = csm_client.post(reverse("account-tasks", args=[account.pk]), _new())
    assert response.status_code == 302 and response["Location"].endswith("#tasks-panel")
    task = Task.objects.get()
    bad = csm_client.post(
        reverse("account-tasks", args=[account.pk]),
        {"action": "cancel", "task": task.pk, f"cancel-{task.pk}-reason": ""},
    )
    assert bad.status_code == 422
    assert "<html" in bad.content.decode() and "field-error" in bad.content.decode()
    ok = csm_client.post(
        reverse("account-tasks", args=[account.pk]),
        {"action": "cancel", "task": task.pk, f"cancel-{task.pk}-reason": "Customer asked"},
    )
    assert ok.status_code == 302
    task.refresh_from_db()
    assert task.status == TaskStatus.CANCELLED and task.cancel_reason == "Customer asked"


def test_completing_from_the_panel_lands_on_the_timeline_with_a_link(csm_client, account, make_task):
    task = make_task(account, "Send the proposal")
    response = csm_client.post(
        reverse("account-tasks", args=[account.pk]), {"action": "complete", "task": task.pk}, **HTMX
    )
    assert response.status_code == 200
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE
    entry = TimelineEntry.objects.get(account=account, kind="task_done")
    page = csm_client.get(reverse("account-detail", args=[account.pk])).content.decode()
    assert f'href="{reverse("task-detail", args=[task.pk])}"' in page
    assert entry.subject_id == task.pk
    # Completing twice is an error said in the panel, not a 500.
    again = csm_client.post(
        reverse("account-tasks", args=[account.pk]), {"action": "complete", "task": task.pk}, **HTMX
    )
    assert again.status_code == 200 and "already closed" in again.content.decode()


@pytest.mark.parametrize(
    "data",
    [{"action": "dance"}, {"action": "complete", "task": "x"}, {"action": "complete", "task": "99999"}],
)
def test_the_panel_refuses_nonsense(csm_client, account, data):
    response = csm_client.post(reverse("account-tasks", args=[account.pk]), data)
    assert response.status_code in (400, 404)


def test_a_task_of_another_account_cannot_be_closed_through_this_panel(csm_client, account, make_task):
    other = make_task(AccountFactory(owner=account.owner))
    response = csm_client.post(
        reverse("account-tasks", args=[account.pk]), {"action": "complete", "task": other.pk}
    )
    assert response.status_code == 404


def test_a_viewer_sees_the_panel_without_forms(viewer_client, account, make_task):
    make_task(account, "Visible to all")
    body = viewer_client.get(reverse("account-tasks", args=[account.pk]), **HTMX).content.decode()
    assert "Visible to all" in body and "<form" not in body


# --- The tasks page ---------------------------------------------------------------------------------


def test_the_tasks_page_shows_my_open_tasks_by_default(csm_client, csm, account, teammate, make_task):
    mine = make_task(account, "Mine open", days=-1)
    make_task(account, "Someone else's", owner=teammate)
    closed = make_task(account, "Mine done")
    from touchpoint.tasks import services

    services.complete_task(task=closed, actor=csm)
    body = csm_client.get(reverse("tasks")).content.decode()
    assert "Mine open" in body and "Someone else" not in body and "Mine done" not in body
    assert reverse("account-detail", args=[account.pk]) in body
    assert reverse("task-detail", args=[mine.pk]) in body
    everyone = csm_client.get(reverse("tasks") + "?owner=&status=all").content.decode()
    assert "Mine open" in everyone and "Someone else" in everyone and "Mine done" in everyone


def test_the_tasks_page_filters_by_due_and_account(csm_client, account, make_task):
    other = AccountFactory(owner=account.owner, name="Globex")
    make_task(account, "Overdue one", days=-2)
    make_task(account, "This week", days=5)
    make_task(other, "Far away", days=40)
    overdue = csm_client.get(reverse("tasks") + "?due=overdue").content.decode()
    assert "Overdue one" in overdue and "This week" not in overdue and "Far away" not in overdue
    week = csm_client.get(reverse("tasks") + "?due=week").content.decode()
    assert "Overdue one" in week and "This week" in week and "Far away" not in week
    globex = csm_client.get(reverse("tasks") + "?q=glob").content.decode()
    assert "Far away" in globex and "Overdue one" not in globex


def test_the_tasks_page_sorts_by_due_date(csm_client, account, make_task):
    make_task(account, "Alpha soon", days=1)
    make_task(account, "Beta later", days=9)
    ascending = csm_client.get(reverse("tasks") + "?sort=due").content.decode()
    descending = csm_client.get(reverse("tasks") + "?sort=-due").content.decode()
    assert ascending.index("Alpha soon") < ascending.index("Beta later")
    assert descending.index("Beta later") < descending.index("Alpha soon")


def test_bad_filters_fall_back_to_the_defaults(csm_client, account, make_task):
    make_task(account, "Still here")
    response = csm_client.get(reverse("tasks") + "?owner=abc&status=zzz&due=never&sort=sideways")
    assert response.status_code == 200 and "Still here" in response.content.decode()


def test_the_tasks_page_is_a_fixed_number_of_queries(
    csm_client, account, make_task, django_assert_max_num_queries
):
    for n in range(3):
        make_task(AccountFactory(owner=account.owner), f"Task {n}")
    csm_client.get(reverse("tasks"))
    with django_assert_max_num_queries(12) as few:
        csm_client.get(reverse("tasks"))
    for n in range(20):
        make_task(AccountFactory(owner=account.owner), f"More {n}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        csm_client.get(reverse("tasks"))


def test_new_task_from_the_tasks_page_picks_only_accounts_i_may_change(csm_client, csm, account):
    foreign = AccountFactory(name="Not my account")
    page = csm_client.get(reverse("tasks")).content.decode()
    assert account.name in page and "Not my account" not in page
    data = {
        "new-account": foreign.pk,
        "new-title": "Sneaky",
        "new-due_on": timezone.localdate().isoformat(),
        "new-priority": "2",
        "new-type": "call",
    }
    refused = csm_client.post(reverse("tasks"), data)
    assert refused.status_code == 422 and "field-error" in refused.content.decode()
    assert not Task.objects.exists()
    created = csm_client.post(reverse("tasks"), {**data, "new-account": account.pk, "new-title": "Fine"})
    task = Task.objects.get()
    assert created.status_code == 302 and created["Location"] == reverse("task-detail", args=[task.pk])
    assert task.owner == csm  # the account's owner by default


def test_closing_inline_on_the_tasks_page(csm_client, account, make_task):
    task = make_task(account, "Inline")
    response = csm_client.post(reverse("task-cancel", args=[task.pk]), {"view": "row", "reason": ""}, **HTMX)
    assert response.status_code == 200 and "field-error" in response.content.decode()
    response = csm_client.post(reverse("task-complete", args=[task.pk]), {"view": "row"}, **HTMX)
    body = response.content.decode()
    assert body.startswith("<tr") and f'id="row-task-{task.pk}"' in body and "Done" in body


# --- One task ---------------------------------------------------------------------------------------


def test_the_task_page_shows_notes_history_and_edits(csm_client, csm, account, make_task, teammate):
    task = make_task(account, "Renewal call", notes="Ask about budget", type="renewal")
    page = csm_client.get(reverse("task-detail", args=[task.pk])).content.decode()
    assert "Ask about budget" in page and "Renewal call" in page and 'id="edit-task"' in page
    edit = {
        "title": "Renewal call (moved)",
        "due_on": (timezone.localdate() + timedelta(days=2)).isoformat(),
        "owner": teammate.pk,
        "priority": "1",
        "type": "renewal",
        "notes": "Ask about budget",
    }
    response = csm_client.post(reverse("task-detail", args=[task.pk]), edit)
    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.title, task.owner, task.priority) == ("Renewal call (moved)", teammate, 1)
    csm_client.post(reverse("task-cancel", args=[task.pk]), {"reason": "Customer churned early"})
    page = csm_client.get(reverse("task-detail", args=[task.pk])).content.decode()
    assert "Customer churned early" in page and 'id="edit-task"' not in page
    assert "Changed" in page and "Cancelled" in page


def test_the_task_page_shows_edit_errors_beside_the_fields(csm_client, account, make_task):
    task = make_task(account, "Keep me")
    response = csm_client.post(
        reverse("task-detail", args=[task.pk]),
        {"title": "", "due_on": "not a date", "priority": "7", "type": "call"},
    )
    assert response.status_code == 422
    assert response.content.decode().count('class="field-error"') >= 3
    task.refresh_from_db()
    assert task.title == "Keep me"


def test_plain_complete_goes_back_where_it_came_from_but_never_off_site(csm_client, account, make_task):
    task = make_task(account)
    response = csm_client.post(reverse("task-complete", args=[task.pk]), {"next": "https://evil.example/"})
    assert response["Location"] == reverse("task-detail", args=[task.pk])
    other = make_task(account)
    response = csm_client.post(reverse("task-complete", args=[other.pk]), {"next": "/my-day/"})
    assert response["Location"] == "/my-day/"


def test_closing_a_closed_task_is_a_form_error(csm_client, account, make_task):
    task = make_task(account)
    csm_client.post(reverse("task-complete", args=[task.pk]))
    response = csm_client.post(reverse("task-complete", args=[task.pk]))
    assert response.status_code == 422 and "already closed" in response.content.decode()


def test_an_outsider_may_read_but_not_close(book, make_task):
    task = make_task(book.account)
    outsider = logged_in_client(book.outsider)
    assert outsider.get(reverse("task-detail", args=[task.pk])).status_code == 200  # CSMs read every book
    assert outsider.post(reverse("task-complete", args=[task.pk])).status_code == 403
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN


def test_changing_a_filter_with_htmx_answers_only_the_results(csm_client, account, make_task):
    make_task(account, "Partial please", days=-1)
    response = csm_client.get(reverse("tasks") + "?due=overdue", HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.startswith('<section class="card" id="task-results">') and "Partial please" in body
    assert "<html" not in body
