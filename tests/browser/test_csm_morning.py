"""A CSM's morning, end to end in a real browser (issue 12's "done when"): sign in and land on My day,
open an overdue task from it and complete it, start the renewal playbook on an account, record the
renewal's outcome, and find each of those on the account's timeline. In English and in Japanese."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.factories import AccountFactory, UserFactory
from tests.playbooks.conftest import ship_playbooks
from touchpoint.playbooks.models import PlaybookRun
from touchpoint.revenue import services as revenue
from touchpoint.revenue.models import RenewalOpportunity
from touchpoint.tasks.models import Task, TaskStatus
from touchpoint.tasks.services import create_task
from touchpoint.users.roles import Role

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("language", ["en", "ja"])
def test_a_csms_morning(page, live_server, log_in, language):
    ship_playbooks()  # a transactional test starts from an empty database: the shipped playbooks again
    csm = UserFactory(role=Role.CSM, email="csm@example.com", full_name="Casey Sun")
    today = timezone.localdate()
    account = AccountFactory(name="Orbit Labs", owner=csm)
    account.created_at = timezone.now() - timedelta(days=800)
    account.save(update_fields=["created_at"])
    subscription = revenue.create_subscription(
        account=account,
        product="Cloud",
        mrr=Decimal("250"),
        started_on=today - timedelta(days=300),
        renewal_date=today + timedelta(days=65),
    )
    task = create_task(
        account=account, title="Call the champion", due_on=today - timedelta(days=2), actor=csm
    )

    log_in(page, csm)  # lands on My day
    if language == "ja":  # the reader's choice of language (the switch in the footer sets this cookie)
        page.context.add_cookies([{"name": "django_language", "value": "ja", "url": live_server.url}])
        page.reload()

    # The home lists the overdue task and the renewal coming up; the task opens from there.
    tasks_section = page.locator('[data-section="tasks"]')
    expect(tasks_section.locator(".home-task.is-overdue")).to_contain_text("Call the champion")
    expect(page.locator("main")).to_contain_text("Orbit Labs")
    tasks_section.get_by_role("link", name="Call the champion").click()
    expect(page).to_have_url(f"{live_server.url}/tasks/{task.pk}/")
    page.locator(".task-actions button.primary").click()
    expect(page.locator(".task-actions")).to_have_count(0)  # a closed task has no Complete any more
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE

    # Start the renewal playbook on the account.
    page.goto(f"{live_server.url}/accounts/{account.pk}/")
    panel = page.locator("#playbooks-panel")
    panel.locator(".start-playbook select[name=playbook]").select_option(label="Renewal")
    panel.locator(".start-playbook button[type=submit]").click()
    running = page.locator("#playbooks-panel .playbook-run")  # the panel is swapped in once it has started
    expect(running).to_have_count(1)
    expect(running).to_contain_text("Renewal")
    run = PlaybookRun.objects.get(account=account)
    assert run.playbook.name == "Renewal"
    assert Task.objects.filter(account=account, source="playbook", status=TaskStatus.OPEN).count() == 4

    # Record the renewal's outcome: renewed at a higher MRR.
    opportunity = RenewalOpportunity.objects.get(subscription=subscription)
    page.goto(f"{live_server.url}/renewals/opportunities/{opportunity.pk}/")
    outcome = page.locator("#opportunity-outcome")
    outcome.locator("#id_outcome-outcome").select_option("renewed")
    outcome.locator("#id_outcome-new_mrr").fill("300")
    outcome.locator("button[type=submit]").click()
    expect(page.locator("#opportunity-stage")).to_have_attribute("class", "badge stage-renewed")
    subscription.refresh_from_db()
    assert subscription.mrr == Decimal("300.00") and subscription.renewal_date > today + timedelta(days=65)

    # Each step is on the account's timeline, in the reader's language.
    page.goto(f"{live_server.url}/accounts/{account.pk}/")
    timeline = page.locator("#timeline-entries")
    expect(timeline.locator(".kind-task_done")).to_contain_text("Call the champion")
    expect(timeline.locator(".kind-playbook_started")).to_contain_text("Renewal")
    expect(timeline.locator(".kind-renewal_outcome")).to_contain_text("Cloud")
    if language == "ja":
        expect(page.locator("html")).to_have_attribute("lang", "ja")
        expect(timeline.locator(".kind-task_done")).not_to_contain_text("Task done")
    else:
        expect(timeline.locator(".kind-renewal_outcome")).to_contain_text("Renewed: Cloud")
