"""TOUCHPOINT_LOG_FORMAT=json: one JSON object per line, request logs with their fields, app logs too."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

import pytest

from tests.conftest import logged_in_client

SCRIPT = """
import logging, django
django.setup()
from django.test import Client
client = Client(raise_request_exception=False)
client.get("/login/", HTTP_X_REQUEST_ID="req-from-proxy-1")
client.get("/no-such-page/")
logging.getLogger("touchpoint.something").warning("Backup took %s s", 12)
"""


def test_json_logs_are_one_object_per_line_with_the_request_fields(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOUCHPOINT_")}
    env.update(
        TOUCHPOINT_LOG_FORMAT="json",
        ALLOWED_HOSTS="testserver",
        TOUCHPOINT_DATA_DIR=str(tmp_path),
        DJANGO_SETTINGS_MODULE="touchpoint.settings",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    env.pop("DEBUG", None)
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]  # every line parses
    requests = [entry for entry in lines if entry["logger"] == "touchpoint.requests"]
    login, missing = requests
    assert login["method"] == "GET" and login["route"] == "login" and login["path"] == "/login/"
    assert login["status"] == 200 and isinstance(login["duration_ms"], float)
    assert login["request_id"] == "req-from-proxy-1" and login["user_id"] is None
    assert missing["status"] == 404 and missing["route"] == "unmatched" and len(missing["request_id"]) == 32
    app = next(entry for entry in lines if entry["logger"] == "touchpoint.something")
    assert app["message"] == "Backup took 12 s" and app["level"] == "WARNING" and "time" in app


@pytest.mark.django_db
def test_a_request_log_names_the_signed_in_user_and_the_request_id(admin_user, caplog):
    caplog.set_level(logging.INFO, logger="touchpoint.requests")
    response = logged_in_client(admin_user).get("/login/", HTTP_X_REQUEST_ID="bad id with spaces")
    record = next(r for r in caplog.records if r.name == "touchpoint.requests")
    assert record.user_id == admin_user.pk
    assert record.request_id == response["X-Request-ID"] != "bad id with spaces"  # not trusted: replaced
