from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from tests.health.helpers import old_account
from touchpoint.health.models import HealthScore
from touchpoint.health.tasks import recompute_health_task
from touchpoint.scheduler.registry import registered_schedules

pytestmark = pytest.mark.django_db


def test_the_recompute_is_scheduled_daily():
    schedule = next(s for s in registered_schedules() if s.name == "health.recompute")
    assert schedule.task is recompute_health_task


def test_task_scores_every_account_for_the_day():
    account = old_account()
    assert recompute_health_task.call("2026-06-30") == 1
    assert HealthScore.objects.filter(account=account, day="2026-06-30").exists()


def test_recompute_command_backfills_days():
    old_account()
    out = StringIO()
    call_command("health", "recompute", "--date", "2026-06-30", "--days", "3", stdout=out)
    assert sorted(str(d) for d in HealthScore.objects.values_list("day", flat=True)) == [
        "2026-06-28",
        "2026-06-29",
        "2026-06-30",
    ]
    call_command("health", "recompute", stdout=StringIO())
    assert HealthScore.objects.filter(day=timezone.localdate()).count() == 1


def test_recompute_command_rejects_a_bad_date():
    with pytest.raises(CommandError, match="Not a date"):
        call_command("health", "recompute", "--date", "30/06/2026")
