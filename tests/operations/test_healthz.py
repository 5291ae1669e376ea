"""`GET /healthz`: the database and the worker's heartbeat, for load balancers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import OperationalError, connection
from django.test import override_settings
from django.utils import timezone

from touchpoint.operations.heartbeat import beat, worker_name
from touchpoint.operations.models import WorkerHeartbeat
from touchpoint.scheduler.registry import registered_pollers

pytestmark = pytest.mark.django_db


def test_no_worker_ever_is_reported_and_still_200(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "worker": "never",
        "worker_age_seconds": None,
    }
    assert "sessionid" not in response.cookies
    assert response["Cache-Control"].startswith("max-age=0")


def test_a_recent_beat_is_ok_even_when_strict(client):
    beat()
    response = client.get("/healthz?strict=1")
    assert response.status_code == 200
    body = response.json()
    assert body["worker"] == "ok" and 0 <= body["worker_age_seconds"] <= 5


def test_a_late_worker_is_reported_and_503_only_when_strict(client):
    beat()
    WorkerHeartbeat.objects.update(beat_at=timezone.now() - timedelta(minutes=6))
    body = client.get("/healthz").json()
    assert body["worker"] == "late" and 355 <= body["worker_age_seconds"] <= 370
    assert client.get("/healthz").status_code == 200
    strict = client.get("/healthz?strict=1")
    assert strict.status_code == 503
    assert strict.json()["reason"] == "worker late"


def test_the_threshold_is_a_setting(client):
    beat()
    WorkerHeartbeat.objects.update(beat_at=timezone.now() - timedelta(minutes=6))
    with override_settings(WORKER_LATE_SECONDS=600):
        assert client.get("/healthz?strict=1").json()["worker"] == "ok"
    with override_settings(WORKER_LATE_SECONDS=60):
        assert client.get("/healthz").json()["worker"] == "late"


def test_the_latest_of_several_workers_counts(client):
    now = timezone.now()
    WorkerHeartbeat.objects.create(worker="old:1", beat_at=now - timedelta(hours=2), started_at=now)
    WorkerHeartbeat.objects.create(worker="new:2", beat_at=now - timedelta(seconds=40), started_at=now)
    body = client.get("/healthz").json()
    assert body["worker"] == "ok" and 39 <= body["worker_age_seconds"] <= 45


def test_a_database_that_does_not_answer_is_503_with_the_reason(client, monkeypatch):
    def broken(*args, **kwargs):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(connection, "cursor", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "error", "reason": "OperationalError"}


def test_a_beat_moves_its_own_row_and_forgets_long_silent_workers():
    now = timezone.now()
    WorkerHeartbeat.objects.create(worker="gone:9", beat_at=now - timedelta(days=2), started_at=now)
    beat()
    first = WorkerHeartbeat.objects.get(worker=worker_name()).beat_at
    beat()
    assert WorkerHeartbeat.objects.get(worker=worker_name()).beat_at >= first
    assert list(WorkerHeartbeat.objects.values_list("worker", flat=True)) == [worker_name()]


def test_the_worker_beats_from_its_upkeep_loop():
    (poller,) = [poller for poller in registered_pollers() if poller.name == "operations.heartbeat"]
    assert poller.every <= 60
    poller.run()  # as the worker's upkeep loop does (scheduler tests cover the loop itself)
    assert WorkerHeartbeat.objects.filter(worker=worker_name()).exists()
