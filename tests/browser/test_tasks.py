"""Tasks in the browser: added, completed and cancelled from the account panel and the tasks page with
htmx (no reload), the cancel reason asked for, and closed tasks on the timeline."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.factories import AccountFactory, UserFactory
from touchpoint.tasks import services
from touchpoint.tasks.models import Task, TaskStatus
from touchpoint.users.roles import Role

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_csm_adds_completes_and_cancels_tasks_without_a_reload(page, live_server, log_in):
    csm = UserFactory(role=Role.CSM, email="mika@example.com", full_name="Mika Sato")
    account = AccountFactory(name="Task Corp", owner=csm)
    late = services.create_task(
        account=account, title="Overdue call", due_on=timezone.localdate() - timedelta(days=2), actor=csm
    )
    log_in(page, csm)
    page.goto(f"{live_server.url}/accounts/{account.pk}/")
    panel = page.locator("#tasks-panel")
    expect(panel).to_contain_text("Overdue call")
    expect(panel.locator(".is-overdue")).to_have_count(1)
    expect(page.locator('[data-fact="open_tasks"]')).to_contain_text("1 overdue")
    page.evaluate("window.__stillHere = true")

    panel.get_by_text("Add a task").click()
    panel.get_by_label("Title").fill("Send the renewal proposal")
    panel.get_by_label("Due date").fill((timezone.localdate() + timedelta(days=5)).isoformat())
    panel.get_by_label("Type").select_option("renewal")
    panel.get_by_role("button", name="Add task").click()
    expect(panel).to_contain_text("Send the renewal proposal")

    panel.locator(f"#panel-task-{late.pk}").get_by_role("button", name="Complete").click()
    expect(panel.locator("#account-closed-tasks")).to_contain_text("Overdue call")
    assert page.evaluate("window.__stillHere") is True
    assert Task.objects.get(pk=late.pk).status == TaskStatus.DONE

    # On the tasks page: cancelling asks why, then closes the row in place.
    page.goto(f"{live_server.url}/tasks/")
    proposal = Task.objects.get(title="Send the renewal proposal")
    row = page.locator(f"#row-task-{proposal.pk}")
    row.get_by_text("Cancel", exact=True).click()
    row.get_by_label("Why cancel?").fill("Customer renews through a reseller")
    row.get_by_role("button", name="Cancel task").click()
    expect(page.locator(f"#row-task-{proposal.pk}")).to_contain_text("Cancelled")
    assert Task.objects.get(pk=proposal.pk).cancel_reason == "Customer renews through a reseller"

    # Both closings are on the timeline, linked to their task.
    page.goto(f"{live_server.url}/accounts/{account.pk}/")
    timeline = page.locator("#timeline-entries")
    expect(timeline).to_contain_text("Task done: Overdue call")
    expect(timeline).to_contain_text("Customer renews through a reseller")
    timeline.get_by_role("link", name="Task done: Overdue call").click()
    expect(page.locator("#task-title")).to_have_text("Overdue call")
    expect(page.locator("#task-history")).to_contain_text("Done")
