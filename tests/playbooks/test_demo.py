"""The demo company has running playbooks, renewal ones among them, that the real rules recognise."""

from __future__ import annotations

import pytest

from tests.demo.test_demo_command import TODAY, demo
from touchpoint.accounts.models import TimelineEntry
from touchpoint.demo.builders import DemoContext
from touchpoint.playbooks import triggers
from touchpoint.playbooks.models import PlaybookRun, RunStatus
from touchpoint.tasks.models import TaskSource, TaskStatus

pytestmark = pytest.mark.django_db


def test_the_demo_runs_renewal_onboarding_and_risk_playbooks(shipped):
    demo(
        "--accounts=40", "--days=500", f"--today={TODAY.isoformat()}"
    )  # a year and more: renewals come round
    runs = list(PlaybookRun.objects.select_related("playbook").prefetch_related("run_steps__task"))
    names = {run.playbook.name for run in runs}
    assert {"Renewal", "Onboarding", "Risk escalation"} <= names
    assert {run.status for run in runs} == {RunStatus.RUNNING}
    renewals = [run for run in runs if run.playbook.name == "Renewal"]
    assert all(run.occurrence_key.startswith("renewal:") for run in renewals)
    tasks = [step.task for run in runs for step in run.run_steps.all()]
    assert {task.source for task in tasks} == {TaskSource.PLAYBOOK}
    assert any(task.status == TaskStatus.DONE for task in tasks)
    # The daily scan on the demo's day recognises each renewal the demo started.
    started = triggers.scan_renewals(today=TODAY)
    assert not {run.account_id for run in started} & {run.account_id for run in renewals}
    end = DemoContext(seed=0, days=1, account_count=0, anchor=TODAY, tz=runs[0].started_at.tzinfo).end
    assert not TimelineEntry.objects.filter(kind__startswith="playbook_", occurred_at__gte=end).exists()
