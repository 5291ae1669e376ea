"""What tasks add to other screens: the home section, the portfolio column and CSV column, the header fact."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import AccountFactory, UserFactory
from touchpoint.home.selectors import scope_for
from touchpoint.tasks import services
from touchpoint.tasks.home_sections import overdue_and_due
from touchpoint.users.roles import Role

pytestmark = pytest.mark.django_db


# --- Home: "Overdue and due" ----------------------------------------------------------------------


def test_home_lists_my_overdue_and_due_tasks_most_urgent_first(csm_client, csm, account, teammate, make_task):
    make_task(account, "Due in five days", days=5)
    make_task(account, "Overdue low", days=-2, priority=3)
    make_task(account, "Overdue high", days=-2, priority=1)
    make_task(account, "Next month", days=30)
    make_task(account, "Teammate's", days=1, owner=teammate)
    services.update_task(task=make_task(account, "Unowned later"), actor=csm, owner=None)
    page = csm_client.get(reverse("my-day")).content.decode()
    section = page.split('data-section="tasks"')[1]
    order = ["Overdue high", "Overdue low", "Due in five days"]
    assert all(title in section for title in order)
    assert [section.index(title) for title in order] == sorted(section.index(title) for title in order)
    assert "Next month" not in section and "Teammate&#x27;s" not in section
    assert "Unowned later" in section  # nobody's tasks of my book are mine to pick up
    task_link = reverse("task-detail", args=[account.tasks.get(title="Overdue high").pk])
    assert task_link in section and "Complete" in section


def test_home_section_is_three_queries_however_many_tasks(csm, django_assert_num_queries):
    def fill(n):
        for i in range(n):
            account = AccountFactory(owner=csm)
            services.create_task(account=account, title=f"T{i}", due_on=account.created_at.date(), actor=csm)

    fill(2)
    scope = scope_for(csm)
    with CaptureQueriesContext(connection) as few:
        data = overdue_and_due(scope)
    fill(30)
    with django_assert_num_queries(len(few.captured_queries)):
        data = overdue_and_due(scope)
    assert len(data["items"]) == 20 and data["total"] == 32


def test_a_leader_sees_everyones_due_tasks_and_a_csm_not_outside_their_book(
    csm, leader, make_task, own_books_only
):
    other_csm = UserFactory(role=Role.CSM)
    make_task(AccountFactory(owner=other_csm), "Other book", days=1)
    make_task(AccountFactory(owner=csm), "My book", days=1)
    assert [t.title for t in overdue_and_due(scope_for(leader))["items"]] == ["Other book", "My book"]
    assert [t.title for t in overdue_and_due(scope_for(csm))["items"]] == ["My book"]


def test_completing_from_home_answers_the_item(csm_client, account, make_task):
    task = make_task(account, "From home", days=-1)
    response = csm_client.post(
        reverse("task-complete", args=[task.pk]), {"view": "home"}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert body.lstrip().startswith("<li") and f'id="home-task-{task.pk}"' in body and "Done" in body


# --- Portfolio ----------------------------------------------------------------------------------------


def test_portfolio_open_tasks_column_sorts_and_exports(csm_client, csm, make_task):
    busy = AccountFactory(name="Busy Co", owner=csm)
    calm = AccountFactory(name="Calm Co", owner=csm)
    AccountFactory(name="Idle Co", owner=csm)
    for days in (-1, 2, 3):
        make_task(busy, days=days)
    make_task(calm)
    services.complete_task(task=make_task(calm), actor=csm)  # closed: not counted
    page = csm_client.get(reverse("portfolio"), {"sort": "-open_tasks"})
    assert 'data-column="open_tasks"' in page.content.decode()
    names = [a.name for a in page.context["page"].object_list]
    assert names == ["Busy Co", "Calm Co", "Idle Co"]
    ascending = [a.name for a in csm_client.get(reverse("portfolio"), {"sort": "open_tasks"}).context["page"]]
    assert ascending == ["Idle Co", "Calm Co", "Busy Co"]
    response = csm_client.get(reverse("portfolio-export"))
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert {row["name"]: row["open_tasks"] for row in rows} == {
        "Busy Co": "3",
        "Calm Co": "1",
        "Idle Co": "0",
    }


def test_portfolio_column_costs_no_query_per_row(csm_client, csm, make_task, django_assert_max_num_queries):
    for _ in range(3):
        make_task(AccountFactory(owner=csm))
    with CaptureQueriesContext(connection) as few:
        csm_client.get(reverse("portfolio"), {"sort": "open_tasks"})
    for _ in range(15):
        make_task(AccountFactory(owner=csm))
    with django_assert_max_num_queries(len(few.captured_queries)):
        csm_client.get(reverse("portfolio"), {"sort": "open_tasks"})


# --- Account header -----------------------------------------------------------------------------------


def test_header_fact_counts_open_and_overdue_in_the_header_query(csm_client, account, make_task):
    from touchpoint.accounts.selectors import account_for_360

    make_task(account, days=-3)
    make_task(account, days=4)
    with CaptureQueriesContext(connection) as queries:
        loaded = account_for_360(account.pk)
    assert (loaded.open_tasks, loaded.overdue_tasks) == (2, 1)
    account_queries = [q for q in queries.captured_queries if "tasks_task" in q["sql"]]
    assert len(account_queries) == 1 and len(queries.captured_queries) == 2  # the account, its children
    page = csm_client.get(reverse("account-detail", args=[account.pk])).content.decode()
    fact = page.split('data-fact="open_tasks"')[1].split("</div>")[0]
    assert ">2</a>" in fact and "1 overdue" in fact
