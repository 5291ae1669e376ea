"""Rate limits on /api/v1 and the tracking endpoints: 429 with Retry-After past the limit, per caller."""

from __future__ import annotations

import base64
import time
import types

import orjson
import pytest
from django.test import Client

from tests.conftest import Api
from touchpoint.usage.services import create_source
from touchpoint.users.models import RateLimitWindow
from touchpoint.users.ratelimit import count_request
from touchpoint.users.services import create_api_key

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def one_minute(monkeypatch):
    """Every request of a test falls in the same window: 251 requests on a slow machine can otherwise
    cross a minute boundary and start a fresh count (CI saw 422 where 429 was due)."""
    from touchpoint.users import ratelimit

    now = (time.time() // ratelimit.WINDOW_SECONDS) * ratelimit.WINDOW_SECONDS + 30
    monkeypatch.setattr(ratelimit, "time", types.SimpleNamespace(time=lambda: now))


@pytest.fixture
def low_limits(settings):
    settings.TOUCHPOINT_API_RATE_LIMIT = 3
    settings.TOUCHPOINT_TRACKING_RATE_LIMIT = 2
    settings.TOUCHPOINT_ANONYMOUS_RATE_LIMIT = 2


def test_past_the_limit_a_key_gets_429_with_retry_after_and_another_key_does_not(admin_user, low_limits):
    first = Api(create_api_key(user=admin_user)[1])
    second = Api(create_api_key(user=admin_user)[1])
    assert [first.get("/accounts").status_code for _ in range(3)] == [200, 200, 200]
    response = first.get("/accounts")
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 61
    body = response.json()
    assert set(body) == {"detail", "errors"} and "TOUCHPOINT_API_RATE_LIMIT" in body["detail"]
    assert "3" in body["detail"]
    assert second.get("/accounts").status_code == 200


def test_calls_without_a_key_are_limited_per_address(low_limits):
    statuses = [Client().get("/api/v1/accounts", REMOTE_ADDR="10.0.0.5").status_code for _ in range(3)]
    assert statuses == [401, 401, 429]
    assert Client().get("/api/v1/accounts", REMOTE_ADDR="10.0.0.6").status_code == 401


def _track(write_key: str):
    auth = base64.b64encode(f"{write_key}:".encode()).decode()
    body = {"batch": [{"type": "track", "event": "Signed In", "userId": "u1", "messageId": "m1"}]}
    return Client().post(
        "/v1/batch", orjson.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=f"Basic {auth}"
    )


def test_tracking_is_limited_per_write_key(admin_user, low_limits):
    one = create_source(name="Web app", actor=admin_user)
    two = create_source(name="Mobile", actor=admin_user)
    assert [_track(one.write_key).status_code for _ in range(2)] == [200, 200]
    response = _track(one.write_key)
    assert response.status_code == 429 and response["Retry-After"]
    body = response.json()
    assert body["success"] is False and "TOUCHPOINT_TRACKING_RATE_LIMIT" in body["detail"]
    assert _track(two.write_key).status_code == 200


def test_a_limit_of_zero_turns_it_off(admin_user, settings):
    settings.TOUCHPOINT_API_RATE_LIMIT = 0
    api = Api(create_api_key(user=admin_user)[1])
    assert all(api.get("/accounts").status_code == 200 for _ in range(5))
    assert not RateLimitWindow.objects.exists()


def test_pages_are_not_limited(admin_user, low_limits):
    client = Client()
    client.force_login(admin_user)
    assert all(client.get("/my-settings/").status_code == 200 for _ in range(5))


def test_the_counter_is_one_statement_and_old_minutes_are_forgotten():
    assert [count_request("key:a", 100) for _ in range(3)] == [1, 2, 3]
    assert count_request("key:b", 100) == 1
    assert count_request("key:a", 105) == 1
    assert set(RateLimitWindow.objects.values_list("bucket", "window")) == {("key:a", 105)}


def test_default_limits_let_the_ingestion_bench_through(settings):
    # bench/ingest.py sends 50,000 events as 100-event batches: 500 requests, at most a few hundred a minute.
    assert settings.TOUCHPOINT_TRACKING_RATE_LIMIT >= 6000


def test_a_high_limit_is_counted_in_blocks_and_still_holds():
    """A process counts a hundredth of the limit at once: 25 requests at 1,000 a minute cost 3 writes,
    and two processes sharing the database never hand out the same position twice."""
    from touchpoint.users.ratelimit import _Blocks

    one, two = _Blocks(), _Blocks()
    positions = [one.position("src:a", 100, 1000) for _ in range(25)]
    assert positions == list(range(1, 26))
    assert RateLimitWindow.objects.get(bucket="src:a").count == 30  # three blocks of ten
    theirs = [two.position("src:a", 100, 1000) for _ in range(12)]
    assert theirs == list(range(31, 43))  # the other process's blocks follow the first's
    assert len(set(positions) | set(theirs)) == 37


def test_past_a_high_limit_the_next_request_is_refused(admin_user, settings):
    settings.TOUCHPOINT_API_RATE_LIMIT = 250  # blocks of two
    api = Api(create_api_key(user=admin_user)[1])
    statuses = [api.get("/accounts/0").status_code for _ in range(251)]
    assert statuses[:250] == [statuses[0]] * 250 and statuses[0] != 429
    assert statuses[250] == 429
