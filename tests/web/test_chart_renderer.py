"""The chart renderer (touchpoint.web.chart_renderer): one process draws every web process's charts."""

import os
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import altair as alt
import pytest
from django.utils import translation

from touchpoint.web import chart_renderer
from touchpoint.web.charts import svg


@pytest.fixture
def renderer():
    folder = Path(tempfile.mkdtemp(prefix="tp-charts-"))  # short: a Unix socket path has 107 bytes
    path = folder / "charts.sock"
    process = subprocess.Popen(
        [sys.executable, "-m", "touchpoint.web.chart_renderer", str(path)], start_new_session=True
    )
    deadline = time.monotonic() + 60
    while not path.exists():
        assert process.poll() is None, "the renderer stopped before it listened"
        assert time.monotonic() < deadline, "the renderer did not listen within a minute"
        time.sleep(0.05)
    yield process, path
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)


def monthly_chart() -> alt.Chart:
    values = [{"month": f"2026-{m:02d}-01", "mrr": 1000 * m, "tip": f"month {m}"} for m in range(1, 7)]
    return alt.Chart(alt.Data(values=values)).mark_bar().encode(x="month:T", y="mrr:Q", description="tip:N")


def test_the_renderer_draws_what_the_process_would_draw_in_the_readers_language(renderer, settings):
    _process, path = renderer
    with translation.override("ja"):
        settings.TOUCHPOINT_CHART_SOCKET = ""
        here = svg(monthly_chart(), width=400)
        settings.TOUCHPOINT_CHART_SOCKET = str(path)
        there = svg(monthly_chart(), width=400)
    assert there == here
    assert "<title>month 3</title>" in there and "月" in there  # Japanese month names on the axis


def test_only_its_owner_may_use_the_socket(renderer):
    _process, path = renderer
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_spec_the_renderer_cannot_draw_is_an_error_that_says_why(renderer):
    _process, path = renderer
    with pytest.raises(chart_renderer.RendererError, match="Error"):
        chart_renderer.draw_remote(
            str(path), {"mark": "no-such-mark"}, format_locale={}, time_format_locale={}
        )
    # The renderer still answers afterwards.
    assert chart_renderer.draw_remote(
        str(path),
        {
            "data": {"values": [{"x": 1}]},
            "mark": "bar",
            "encoding": {"x": {"field": "x", "type": "quantitative"}},
        },
        format_locale={},
        time_format_locale={},
    ).startswith("<svg")


def test_a_page_still_gets_its_chart_when_the_renderer_is_gone(renderer, settings, caplog):
    process, path = renderer
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=20)
    settings.TOUCHPOINT_CHART_SOCKET = str(path)  # the stale socket file is still there
    drawn = svg(monthly_chart(), width=300)
    assert drawn.startswith("<svg")
    assert "did not answer" in caplog.text


def test_the_renderer_removes_its_socket_when_stopped(renderer):
    process, path = renderer
    os.killpg(process.pid, signal.SIGTERM)
    assert process.wait(timeout=20) == 0
    assert not path.exists()


def test_the_renderer_process_does_not_load_django():
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, touchpoint.web.chart_renderer; print('django' in sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert loaded.stdout.strip() == "False"


def test_the_renderer_stops_when_the_server_that_started_it_is_killed(tmp_path):
    folder = Path(tempfile.mkdtemp(prefix="tp-charts-"))
    path = folder / "charts.sock"
    # A parent that starts the renderer and waits: killing it outright must not leave the renderer running.
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import subprocess, sys, time; "
            f"p = subprocess.Popen([sys.executable, '-m', 'touchpoint.web.chart_renderer', {str(path)!r}]); "
            "print(p.pid, flush=True); time.sleep(600)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    renderer_pid = int(parent.stdout.readline())
    deadline = time.monotonic() + 60
    while not path.exists():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    parent.kill()
    parent.wait(timeout=10)
    deadline = time.monotonic() + 20
    while Path(f"/proc/{renderer_pid}").exists() and "Z" not in _state(renderer_pid):
        assert time.monotonic() < deadline, "the renderer outlived its parent"
        time.sleep(0.1)
    assert not path.exists()


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return "Z"
