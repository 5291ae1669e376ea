"""Simulations from the builder page run in the background (journeys/simulation_runs.py): the button
queues a run, a worker runs it and reports its progress, the page polls until the result is there.
One run per version at a time; a failure, or a worker that went away, is said plainly."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django_tasks_db.models import DBTaskResult

from tests.conftest import logged_in_client
from tests.factories import AccountFactory, ContactFactory
from touchpoint.events.models import DomainEvent
from touchpoint.journeys import simulation, simulation_runs
from touchpoint.journeys.definition import parse
from touchpoint.journeys.models import Journey, JourneyVersion, SimulationRun, SimulationStatus

pytestmark = pytest.mark.django_db

SOURCE: dict[str, Any] = {
    "key": "welcome",
    "name": "Welcome",
    "entry": {"trigger": "event", "event": "account.created"},
    "messages": {"hello": {"en": {"subject": "Hello {{ account.name }}", "body": "Hi"}}},
    "steps": [
        {"id": "hello", "type": "email", "message": "hello"},
        {
            "id": "healthy",
            "type": "split",
            "when": {"field": "account.health_grade", "op": "eq", "value": "green"},
            "then": [{"id": "thanks", "type": "tag", "tag": "happy"}],
            "else": [{"id": "call", "type": "task", "title": "Call them"}],
        },
        {"id": "settle", "type": "wait", "days": 3},
    ],
}


def _version(data: dict[str, Any] | None = None) -> JourneyVersion:
    definition = parse(data or SOURCE).model_dump(mode="json", by_alias=True)
    journey = Journey.objects.create(key=definition["key"], name=definition["name"])
    return JourneyVersion.objects.create(journey=journey, number=1, definition=definition, source="")


def _history(count: int = 3) -> None:
    for index in range(count):
        account = AccountFactory(name=f"Customer {index}")
        ContactFactory(account=account, email=f"c{index}@example.com")
        DomainEvent.objects.create(
            kind="account.created",
            account_id=account.pk,
            subject_type="accounts.account",
            subject_id=account.pk,
            payload={},
            occurred_at=timezone.now() - timedelta(days=20 + index),
        )


@pytest.fixture
def leader_client(leader):
    return logged_in_client(leader)


# --- The service and the task -----------------------------------------------------------------------


def test_starting_queues_a_run_and_its_task_after_the_commit(leader, django_capture_on_commit_callbacks):
    version = _version()
    with django_capture_on_commit_callbacks(execute=True):
        run, started = simulation_runs.start_run(version=version, days=30, actor=leader)
    assert started and (run.status, run.days, run.requested_by, run.percent) == ("queued", 30, leader, 0)
    task = DBTaskResult.objects.get()
    assert task.task_path == "touchpoint.journeys.simulation_runs.simulate_task"
    assert task.args_kwargs["args"] == [run.pk]


def test_a_second_start_while_one_is_queued_or_running_gets_the_same_run(django_capture_on_commit_callbacks):
    version = _version()
    with django_capture_on_commit_callbacks(execute=True):
        first, _started = simulation_runs.start_run(version=version, days=90)
        again, started = simulation_runs.start_run(version=version, days=90)
    assert (again.pk, started) == (first.pk, False)
    SimulationRun.objects.filter(pk=first.pk).update(status=SimulationStatus.RUNNING)
    assert simulation_runs.start_run(version=version, days=90) == (first, False)
    assert SimulationRun.objects.count() == 1 and DBTaskResult.objects.count() == 1
    # Once it is done, the next click starts a new one.
    SimulationRun.objects.filter(pk=first.pk).update(status=SimulationStatus.DONE)
    newer, started = simulation_runs.start_run(version=version, days=90)
    assert started and newer.pk != first.pk


def test_the_database_holds_one_unfinished_run_per_version():
    version = _version()
    SimulationRun.objects.create(journey=version.journey, version=version, days=90)
    with pytest.raises(IntegrityError), transaction.atomic():
        SimulationRun.objects.create(
            journey=version.journey, version=version, days=90, status=SimulationStatus.RUNNING
        )
    SimulationRun.objects.create(
        journey=version.journey, version=version, days=90, status=SimulationStatus.DONE
    )


@pytest.mark.parametrize("days", [0, 366, -5])
def test_a_window_outside_1_to_365_days_is_refused(days):
    with pytest.raises(ValidationError) as caught:
        simulation_runs.start_run(version=_version(), days=days)
    assert caught.value.message_dict == {"days": ["A simulation covers 1 to 365 days."]}
    assert not SimulationRun.objects.exists()


def test_the_task_runs_the_simulation_and_keeps_its_result():
    _history(3)
    version = _version()
    run, _started = simulation_runs.start_run(version=version, days=90)

    assert simulation_runs.simulate_task.call(run.pk) == "done"

    run.refresh_from_db()
    assert (run.status, run.percent, run.error) == ("done", 100, "")
    assert run.started_at is not None and run.finished_at is not None
    expected = simulation.simulate(parse(version.definition), days=90).to_json()
    assert run.result["entered"] == expected["entered"] == 3
    assert run.result["paths"] == expected["paths"]
    assert run.result["messages_total"] == 3
    # Delivered twice (a worker restarted): the second delivery does nothing.
    assert simulation_runs.simulate_task.call(run.pk) == "skipped"


def test_the_result_is_written_in_the_language_of_whoever_asked():
    version = _version()
    with translation.override("ja"):
        run, _started = simulation_runs.start_run(version=version, days=90)
    with translation.override("en"):  # whatever the worker happens to run in
        simulation_runs.simulate_task.call(run.pk)
    run.refresh_from_db()
    with translation.override("ja"):
        expected = simulation.simulate(parse(version.definition), days=90).to_json()["notes"]
    assert run.language == "ja" and run.result["notes"] == expected
    assert all(note.isascii() is False for note in run.result["notes"])


def test_a_simulation_that_fails_says_so_and_frees_the_version():
    version = _version()
    run, _started = simulation_runs.start_run(version=version, days=90)
    # A stored definition that no longer reads (a field renamed since it was saved).
    JourneyVersion.objects.filter(pk=version.pk).update(definition={"key": "welcome", "steps": "nope"})

    assert simulation_runs.simulate_task.call(run.pk) == "failed"

    run.refresh_from_db()
    assert run.status == "failed" and run.finished_at is not None
    assert run.error.startswith("ValidationError:")
    _newer, started = simulation_runs.start_run(version=version, days=90)
    assert started


def test_progress_is_reported_by_stage_and_on_the_row():
    _history(2)
    heard: list[tuple[str, int, int]] = []
    simulation.simulate_with_progress(
        parse(SOURCE), days=90, progress=lambda stage, done, total: heard.append((stage, done, total))
    )
    stages = [stage for stage, _done, _total in heard]
    assert stages[0] == "history" and stages[-1] == "messages"
    assert ("entries", 0, 2) in heard and ("entries", 2, 2) in heard
    assert stages.index("entries") < stages.index("messages")

    version = _version()
    run, _started = simulation_runs.start_run(version=version, days=90)
    SimulationRun.objects.filter(pk=run.pk).update(status=SimulationStatus.RUNNING)
    reporter = simulation_runs._Reporter(run.pk)
    reporter("entries", 1, 2)
    run.refresh_from_db()
    assert (run.stage, run.percent) == ("entries", 52)  # halfway through the 10–95 % span
    reporter("entries", 2, 2)  # within the second: not written again
    run.refresh_from_db()
    assert run.percent == 52
    # Once the run is no longer running (taken as dead), the next report stops the simulation.
    SimulationRun.objects.filter(pk=run.pk).update(status=SimulationStatus.FAILED)
    with pytest.raises(simulation_runs.Cancelled):
        reporter("messages", 0, 1)


def test_a_run_whose_worker_went_silent_is_replaced_on_the_next_click():
    version = _version()
    run, _started = simulation_runs.start_run(version=version, days=90)
    SimulationRun.objects.filter(pk=run.pk).update(
        status=SimulationStatus.RUNNING, heartbeat_at=timezone.now() - timedelta(minutes=11)
    )
    run.refresh_from_db()
    assert simulation_runs.is_stale(run)

    newer, started = simulation_runs.start_run(version=version, days=90)

    run.refresh_from_db()
    assert started and newer.pk != run.pk
    assert run.status == "failed" and "stopped reporting progress" in run.error
    # Its worker, were it to come back, finds the run no longer its own.
    assert simulation_runs.simulate_task.call(run.pk) == "skipped"


# --- The pages ------------------------------------------------------------------------------------


def test_the_button_queues_a_run_and_the_panel_polls_until_it_is_done(leader_client):
    _history(2)
    version = _version()
    url = reverse("journey-simulate", args=["welcome"])

    response = leader_client.post(url, HTTP_HX_REQUEST="true")

    html = response.content.decode()
    run = SimulationRun.objects.get()
    poll = reverse("journey-simulation", args=["welcome", run.pk])
    assert response.status_code == 200 and 'data-status="queued"' in html
    assert f'hx-get="{poll}"' in html and 'hx-trigger="every 1s"' in html
    assert "Waiting for a worker to start it" in html
    # A second click while it waits: the same run, no second one.
    assert leader_client.post(url, HTTP_HX_REQUEST="true").status_code == 200
    assert SimulationRun.objects.count() == 1

    SimulationRun.objects.filter(pk=run.pk).update(status="running", stage="entries", percent=40)
    running = leader_client.get(poll).content.decode()
    assert 'data-status="running"' in running and 'value="40"' in running and "every 1s" in running
    assert "Following who would have entered · 40%" in running

    SimulationRun.objects.filter(pk=run.pk).update(status="queued")
    simulation_runs.simulate_task.call(run.pk)
    done = leader_client.get(poll).content.decode()
    assert 'data-status="done"' in done and "hx-trigger" not in done
    assert 'data-number="entered">2<' in done and "simulation-steps" in done
    # The builder page shows the newest run of its version when it opens.
    page = leader_client.get(reverse("journey", args=["welcome"])).content.decode()
    assert 'data-number="entered">2<' in page
    assert version.simulation_runs.count() == 1


def test_without_htmx_the_button_goes_back_to_the_builder_which_shows_the_run(leader_client):
    _version()
    response = leader_client.post(reverse("journey-simulate", args=["welcome"]), {"days": "30"})
    assert response.status_code == 302 and response["Location"] == "/journeys/welcome/#simulation"
    assert SimulationRun.objects.get().days == 30
    page = leader_client.get(reverse("journey", args=["welcome"])).content.decode()
    assert 'id="simulation-run"' in page and "Waiting for a worker to start it" in page


@pytest.mark.parametrize("days", ["many", "0", "400", "-3", "9" * 40])
def test_bad_days_are_a_400_and_start_nothing(leader_client, days):
    _version()
    response = leader_client.post(reverse("journey-simulate", args=["welcome"]), {"days": days})
    assert response.status_code == 400
    assert not SimulationRun.objects.exists()


def test_a_failed_or_abandoned_run_shows_a_clear_message(leader_client):
    version = _version()
    run = SimulationRun.objects.create(
        journey=version.journey,
        version=version,
        days=90,
        status=SimulationStatus.FAILED,
        error="OperationalError: database is locked",
    )
    url = reverse("journey-simulation", args=["welcome", run.pk])
    failed = leader_client.get(url).content.decode()
    assert 'role="alert"' in failed and "The simulation could not finish" in failed
    assert "database is locked" in failed and "hx-trigger" not in failed

    waiting = SimulationRun.objects.create(
        journey=version.journey, version=version, days=90, heartbeat_at=timezone.now() - timedelta(hours=1)
    )
    url = reverse("journey-simulation", args=["welcome", waiting.pk])
    abandoned = leader_client.get(url).content.decode()
    assert "No worker has started this simulation" in abandoned and "hx-trigger" not in abandoned


def test_only_those_who_may_change_the_journey_see_its_runs(leader_client, csm):
    version = _version()
    other = _version({**SOURCE, "key": "other"})
    run = SimulationRun.objects.create(journey=version.journey, version=version, days=90)
    csm_client = logged_in_client(csm)
    assert csm_client.get(reverse("journey-simulation", args=["welcome", run.pk])).status_code == 403
    assert csm_client.post(reverse("journey-simulate", args=["welcome"])).status_code == 403
    assert 'id="simulation-run"' not in csm_client.get(reverse("journey", args=["welcome"])).content.decode()
    # A run is read under its own journey only.
    assert (
        leader_client.get(reverse("journey-simulation", args=[other.journey.key, run.pk])).status_code == 404
    )
    assert leader_client.get(reverse("journey-simulation", args=["welcome", 999999])).status_code == 404


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has one writer at a time")
def test_two_clicks_at_the_same_moment_start_one_run():
    import threading

    from django.db import connections

    version = _version()
    barrier = threading.Barrier(4)
    got: list[tuple[int, bool]] = []
    errors: list[BaseException] = []

    def click() -> None:
        try:
            barrier.wait(timeout=30)
            run, started = simulation_runs.start_run(version=version, days=90)
            got.append((run.pk, started))
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=click) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len({pk for pk, _started in got}) == 1 and sorted(started for _pk, started in got) == [
        False,
        False,
        False,
        True,
    ]
    assert SimulationRun.objects.count() == 1 and DBTaskResult.objects.count() == 1
