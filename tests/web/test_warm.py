"""Warming a web server (touchpoint.web.warm): what `touchpoint serve` does before a request arrives."""

import subprocess
import sys
import textwrap

import pytest
from django.template import engines

from touchpoint.web import warm

PROGRAM = textwrap.dedent("""
    import os, sys
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "touchpoint.settings")
    import django
    django.setup()
    from touchpoint.web import warm
    compiled = warm.warm_pages()
    before = "vl_convert" in sys.modules or "altair" in sys.modules
    warm.warm_web_process()
    # Loaded only when first used (touchpoint.lazy_import): the back-tests, the demo, two-factor QR codes.
    heavy = [name for name in ("numpy", "faker", "segno") if name in sys.modules]
    print(compiled, before, "vl_convert" in sys.modules, "altair" in sys.modules, ",".join(heavy) or "-")
""")


def _run(tmp_path, charts: str) -> list[str]:
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "TOUCHPOINT_DATA_DIR": str(tmp_path),
        "TOUCHPOINT_WARM_CHARTS": charts,
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.split()


def test_pages_warm_without_the_chart_libraries_and_a_web_process_then_loads_them(tmp_path):
    compiled, before, vl_convert, altair, heavy = _run(tmp_path, "1")
    assert int(compiled) > 100  # every app's templates
    assert (before, vl_convert, altair) == ("False", "True", "True")
    assert heavy == "-"  # ~15 MB a process that pages most processes never serve


def test_a_server_that_only_takes_in_events_can_leave_the_charts_cold(tmp_path):
    _compiled, before, vl_convert, altair, _heavy = _run(tmp_path, "0")
    assert (before, vl_convert, altair) == ("False", "False", "False")


@pytest.mark.django_db
def test_warming_pages_reads_no_database_and_leaves_templates_compiled(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert warm.warm_pages() > 100
    [loader] = engines["django"].engine.template_loaders
    # The cached loader keeps what was compiled: the first page renders from it.
    assert len(loader.get_template_cache) > 100
