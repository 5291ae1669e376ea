"""Warming a web server up so the first person after a restart does not wait for it.

Measured on the revenue dashboard (bench/first_page.py): a fresh process spent about 2 s of its first
request importing the URL configuration (the API's pydantic schemas are built when their routers are
imported), compiling templates and loading the catalogues, and about 1.5 s more on its first chart
(Altair's import, then vl-convert starting its JavaScript engine and Vega).

- `warm_pages()` does the first part. `touchpoint serve` calls it in gunicorn's master before the web
  processes are forked, so they start with it done and share those pages of memory. It reads no
  database.
- `warm_web_process()` does the second in each web process after the fork and before it accepts a
  connection (gunicorn's post_worker_init), so no request is ever handed to a cold process: one sent
  during a start waits in the listen queue for the first process that is ready. Under `touchpoint
  serve` vl-convert's JavaScript engine runs in the chart renderer (touchpoint.web.chart_renderer,
  warmed as it starts, which serve waits for), so a web process only imports Altair and builds one
  spec; without a renderer it starts the engine itself, per process, never before a fork.
  TOUCHPOINT_WARM_CHARTS=0 turns it off for a server that only takes in events.
"""

from __future__ import annotations

import logging
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.template import TemplateDoesNotExist, TemplateSyntaxError
from django.template.loader import get_template
from django.urls import get_resolver
from django.utils import translation

logger = logging.getLogger(__name__)


def warm_pages() -> int:
    """Import every URL module (views and API routers), load every language's catalogue and compile
    every app template; the number of templates compiled."""
    get_resolver().url_patterns  # noqa: B018 — the import is the point
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            translation.gettext("Accounts")
    compiled = 0
    for config in apps.get_app_configs():
        folder = Path(config.path) / "templates"
        if not config.name.startswith("touchpoint") or not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*.html")):
            try:
                get_template(path.relative_to(folder).as_posix())
            except (TemplateDoesNotExist, TemplateSyntaxError):
                # Not this function's business: the page that uses it says so when it is asked for.
                logger.warning("template not warmed: %s", path, exc_info=True)
                continue
            compiled += 1
    return compiled


def warm_charts() -> None:
    """Build one small chart, so Altair is imported; draw it here unless a chart renderer draws them
    (then vl-convert's engine and Vega stay out of this process)."""
    import altair as alt

    from touchpoint.web.charts import svg

    chart = alt.Chart(alt.Data(values=[{"x": 1, "y": 1}])).mark_bar().encode(x="x:Q", y="y:Q")
    if settings.TOUCHPOINT_CHART_SOCKET:
        chart.to_dict()
        return
    with translation.override(settings.LANGUAGE_CODE):
        svg(chart, width=100)


def warm_web_process() -> None:
    """Warm the charts in a web process that has just been forked, before it takes its first request
    (nothing when TOUCHPOINT_WARM_CHARTS is off). A failure is logged and the process serves anyway:
    a chart page would fail the same way and say so."""
    if not settings.TOUCHPOINT_WARM_CHARTS:
        return
    try:
        warm_charts()
    except Exception:
        logger.exception("warming the charts failed")
