from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from tests.scheduler.tasks import add, nightly
from touchpoint.scheduler import registry
from touchpoint.scheduler.models import ScheduleState

pytestmark = pytest.mark.django_db(transaction=True)
UTC = UTC


@pytest.fixture
def nightly_schedule():
    saved = dict(registry._SCHEDULES)
    registry._SCHEDULES.clear()
    registry.register_schedule("test.nightly", cron="0 2 * * *", task=nightly)
    yield
    registry._SCHEDULES.clear()
    registry._SCHEDULES.update(saved)


def test_the_worker_runs_what_was_enqueued_and_keeps_the_result():
    result = add.enqueue(2, 3)
    assert DBTaskResult.objects.get(id=result.id).status == "READY"
    call_command("worker", "--batch", "--no-schedules", verbosity=0)
    result.refresh()
    assert result.status == "SUCCESSFUL" and result.return_value == 5


def test_a_schedule_fires_once_per_due_time_however_many_ticks(nightly_schedule):
    first_start = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)  # after 02:00: today's run is still owed
    assert registry.tick(first_start) == ["test.nightly"]
    assert registry.tick(first_start + timedelta(minutes=1)) == []
    assert registry.tick(datetime(2026, 3, 11, 1, 59, tzinfo=UTC)) == []
    assert registry.tick(datetime(2026, 3, 11, 2, 0, 30, tzinfo=UTC)) == ["test.nightly"]
    assert DBTaskResult.objects.filter(task_path__endswith="nightly").count() == 2
    state = ScheduleState.objects.get(name="test.nightly")
    assert state.next_run_at == datetime(2026, 3, 12, 2, 0, tzinfo=UTC)


def test_a_worker_that_loses_the_race_enqueues_nothing(nightly_schedule, monkeypatch):
    now = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    registry.tick(now - timedelta(days=2))
    stale = ScheduleState.objects.get(name="test.nightly")  # what a slower worker read: due
    assert registry.tick(now) == ["test.nightly"]  # the faster worker fires it
    monkeypatch.setattr(ScheduleState.objects, "get_or_create", lambda **kwargs: (stale, False))
    assert registry.tick(now) == []  # the slower one's conditional update matches nothing
    assert DBTaskResult.objects.filter(task_path__endswith="nightly").count() == 2


def test_a_bad_cron_expression_is_refused_at_registration():
    with pytest.raises(ValueError, match="not a cron expression"):
        registry.register_schedule("test.bad", cron="every day", task=nightly)
