"""/metrics: off by default, behind a bearer token when one is set, and its numbers move."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
from datetime import timedelta

import orjson
import pytest
from django.test import Client, override_settings
from django.utils import timezone

from tests.factories import AccountFactory
from touchpoint.events.tasks import delete_old_events_task
from touchpoint.operations.models import WorkerHeartbeat
from touchpoint.usage.services import create_source

pytestmark = pytest.mark.django_db


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample of the exposition (0 when it is absent)."""
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        match = re.match(r"^([a-z_]+)(?:\{(.*)\})? (\S+)$", line)
        if match and match.group(1) == name and ",".join(sorted((match.group(2) or "").split(","))) == wanted:
            return float(match.group(3))
    return 0.0


def scrape(client: Client, **headers) -> str:
    response = client.get("/metrics", **headers)
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/plain")
    return response.content.decode()


def test_metrics_are_off_unless_asked():
    assert Client().get("/metrics").status_code == 404


@override_settings(TOUCHPOINT_METRICS_TOKEN="s3cret-scraper-token")
def test_a_token_protects_the_metrics():
    client = Client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert "touchpoint_task_queue" in scrape(client, HTTP_AUTHORIZATION="Bearer s3cret-scraper-token")


@override_settings(TOUCHPOINT_METRICS=True)
def test_requests_ingestion_queue_and_heartbeat_move_the_numbers():
    client = Client()
    before = scrape(client)
    for _ in range(3):
        client.get("/login/")
    client.get("/no-such-page/")
    AccountFactory(external_id="acme")
    source = create_source(name="App", actor=None)
    batch = {
        "batch": [
            {
                "type": "track",
                "messageId": f"m{i}",
                "userId": "u1",
                "event": "Opened",
                "context": {"groupId": "acme"},
            }
            for i in range(4)
        ]
    }
    auth = "Basic " + base64.b64encode(f"{source.write_key}:".encode()).decode()
    response = client.post(
        "/v1/batch", orjson.dumps(batch), content_type="application/json", HTTP_AUTHORIZATION=auth
    )
    assert response.json()["accepted"] == 4
    delete_old_events_task.enqueue()
    WorkerHeartbeat.objects.create(
        worker="w:1", beat_at=timezone.now() - timedelta(seconds=90), started_at=timezone.now()
    )
    after = scrape(client)

    def moved(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert moved("touchpoint_http_requests_total", route="login", method="GET", status="200") == 3
    assert moved("touchpoint_http_requests_total", route="unmatched", method="GET", status="404") == 1
    assert moved("touchpoint_http_request_duration_seconds_count", route="login") == 3
    assert moved("touchpoint_ingest_events_accepted_total") == 4
    assert moved("touchpoint_ingest_batches_total") == 1
    assert moved("touchpoint_task_queue", status="ready") == 1
    assert sample(after, "touchpoint_rollup_pending") >= 1  # the batch's day waits for its refresh
    assert 90 <= sample(after, "touchpoint_worker_heartbeat_age_seconds") < 200
    assert sample(after, "touchpoint_journey_messages", channel="email", status="sent") == 0
    assert "touchpoint_journey_messages" in after


def test_several_processes_add_up_in_multiprocess_mode(tmp_path):
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    count = (
        "from touchpoint.operations import metrics\n"
        "metrics.observe_request(route='home', method='GET', status=200, seconds=0.01)\n"
    )
    for _ in range(2):  # two web processes, one request each
        subprocess.run([sys.executable, "-c", count], env=env, check=True, timeout=60)
    read = (
        "from prometheus_client import CollectorRegistry, generate_latest\n"
        "from prometheus_client.multiprocess import MultiProcessCollector\n"
        "registry = CollectorRegistry(); MultiProcessCollector(registry)\n"
        "print(generate_latest(registry).decode())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", read], env=env, check=True, capture_output=True, text=True, timeout=60
    )
    assert sample(out.stdout, "touchpoint_http_requests_total", route="home", method="GET", status="200") == 2
