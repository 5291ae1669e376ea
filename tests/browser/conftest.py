"""Playwright against Debian's Chromium, on a live server of the app.

Playwright's own browser download does not work here, so the tests point it at /usr/bin/chromium.
In CI a missing browser fails the run; on a laptop it skips with a message that says why.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from django.core.signals import request_finished, request_started

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))

# Playwright's sync API runs an event loop in the test thread; the test's own ORM calls are still
# synchronous and safe, so let Django allow them.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not CHROMIUM.exists():
        message = f"Chromium is not installed at {CHROMIUM} (make test installs it as root)."
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "en-US", "timezone_id": "UTC"}


@pytest.fixture
def log_in(live_server):
    """Log in through the real form, as a person would."""

    def _log_in(page, user, password="correct horse battery staple"):
        page.goto(f"{live_server.url}/login/")
        page.get_by_label("Email address").fill(user.email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{live_server.url}/my-day/**")

    return _log_in


def panels_loaded(page) -> None:
    """Wait until every lazily loaded panel of a page (an account's, the portfolio's sections) is in.

    Each placeholder is swapped for its panel when it arrives, and the page below it moves: a click
    aimed before the panels above have arrived can land where the link was (CI saw one miss)."""
    from playwright.sync_api import expect

    expect(page.locator('[hx-trigger="load"][hx-swap="outerHTML"]')).to_have_count(0)


@pytest.fixture
def page(page):
    """Playwright's page, whose `goto` also waits for the page's lazy panels (`panels_loaded`): a test
    then reads and clicks a page whose layout no longer moves under it."""
    goto = page.goto

    def goto_and_settle(url, **kwargs):
        response = goto(url, **kwargs)
        panels_loaded(page)
        return response

    page.goto = goto_and_settle
    return page


# The live server answers in its own threads. A page that is still polling (htmx) when a test ends
# leaves a request running while the test database is flushed; on PostgreSQL the flush's TRUNCATE
# and that request's reads can deadlock, the flush fails and the next test starts on old rows. So
# count requests in flight and let the flush wait until the server is idle.
_requests = threading.Condition()
_in_flight = 0


def _live_server_thread() -> bool:
    # The live server answers in threads of its own; the test client answers on the test's thread,
    # and a streamed response it never reads to the end never says it finished (counting those left
    # every later browser test of the process waiting out the whole timeout).
    return threading.current_thread() is not threading.main_thread()


def _request_started(**kwargs) -> None:
    global _in_flight
    if not _live_server_thread():
        return
    with _requests:
        _in_flight += 1


def _request_finished(**kwargs) -> None:
    global _in_flight
    if not _live_server_thread():
        return
    with _requests:
        _in_flight = max(0, _in_flight - 1)
        _requests.notify_all()


request_started.connect(_request_started, dispatch_uid="browser-tests-request-started")
request_finished.connect(_request_finished, dispatch_uid="browser-tests-request-finished")


@pytest.fixture(autouse=True)
def _live_server_idle_before_flush(request):
    """Set up before the page and torn down after it: the page closes, the server drains, then the
    database is flushed."""
    global _in_flight
    if "live_server" not in request.fixturenames:
        yield
        return
    request.getfixturevalue("transactional_db")
    yield
    with _requests:
        if not _requests.wait_for(lambda: _in_flight == 0, timeout=15):
            _in_flight = 0  # a request that never finished must not hold up every later test too
