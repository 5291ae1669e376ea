"""A new app plugs into every seam without any other file changing.

tests/plugin_app/ exists only in the test settings (tests/settings.py). Nothing in src/ names it;
each test checks that what it registers from its AppConfig.ready() shows up where people see it.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from pathlib import Path

import pytest
from django.urls import reverse

from tests.factories import AccountFactory, ContactFactory
from tests.plugin_app.plugins import IMPORT_KIND, MEASURE
from touchpoint.accounts.models import Account
from touchpoint.health import services as health
from touchpoint.health.models import HealthScore
from touchpoint.integrations.csv_import import runner
from touchpoint.integrations.forms import UploadForm

pytestmark = pytest.mark.django_db


def test_nothing_in_the_source_names_the_plugin_app():
    source = Path(__file__).parents[1] / "src"
    files = [p for p in source.rglob("*") if p.suffix in {".py", ".html", ".toml", ".txt"}]
    assert len(files) > 100
    names = ("tests.plugin_app", "plugin-page", "plugin-panel", IMPORT_KIND, MEASURE)
    assert not [str(p) for p in files if any(name in p.read_text(encoding="utf-8") for name in names)]


def test_the_nav_entry_shows_and_its_page_is_routed(csm_client):
    body = csm_client.get(reverse("portfolio")).content.decode()
    assert 'data-nav="plugin"' in body and reverse("plugin-page") in body
    # After the built-in entries (order 95): the last entry of the menu.
    keys = re.findall(r'data-nav="([^"]+)"', body)
    assert keys[0] == "home" and keys[-1] == "plugin"
    page = csm_client.get(reverse("plugin-page"))
    assert page.status_code == 200 and 'id="plugin-page"' in page.content.decode()
    assert 'aria-current="page">Plugin page' in page.content.decode()


def test_the_role_grant_decides_who_sees_the_page(viewer_client, csm_client):
    # The plugin declares its own permission (rules.add_perm in its ready()): viewers are not granted it.
    assert 'data-nav="plugin"' not in viewer_client.get(reverse("portfolio")).content.decode()
    assert viewer_client.get(reverse("plugin-page")).status_code == 403
    assert csm_client.get(reverse("plugin-page")).status_code == 200


def test_the_api_router_is_discovered(api):
    assert api.get("/plugin/ping").json() == {"plugin": "pong"}
    assert "/api/v1/plugin/ping" in api.get("/openapi.json").json()["paths"]


def test_the_account_page_loads_the_panel_and_shows_the_header_fact(csm_client, account):
    body = csm_client.get(reverse("account-detail", args=[account.pk])).content.decode()
    panel_url = reverse("plugin-panel", args=[account.pk])
    assert f'hx-get="{panel_url}"' in body and 'data-panel="plugin"' in body
    # In order: health (10), usage (20), subscriptions (30), then the plugin's (40).
    assert body.index('data-panel="subscriptions"') < body.index('data-panel="plugin"')
    assert f"fact-of-{account.pk}" in body
    panel = csm_client.get(panel_url, HTTP_HX_REQUEST="true").content.decode()
    assert 'id="plugin-panel"' in panel and account.name in panel


def test_the_portfolio_column_sorts_and_its_filter_filters_everywhere(csm_client, csm, api):
    busy = AccountFactory(name="Busy Co", owner=csm)
    ContactFactory.create_batch(3, account=busy)
    AccountFactory(name="Quiet Co", owner=csm)
    page = csm_client.get(reverse("portfolio"), {"sort": "-contacts"})
    body = page.content.decode()
    assert 'data-column="contacts"' in body and 'class="plugin-contacts" data-page="2">3<' in body
    assert [a.name for a in page.context["page"].object_list] == ["Busy Co", "Quiet Co"]
    filtered = csm_client.get(reverse("portfolio"), {"has_contacts": "on"}).context["page"].object_list
    assert [a.name for a in filtered] == ["Busy Co"]
    partial = csm_client.get(reverse("portfolio"), {"has_contacts": "on"}, HTTP_HX_REQUEST="true")
    assert "Busy Co" in partial.content.decode() and "Quiet Co" not in partial.content.decode()
    export = csm_client.get(reverse("portfolio-export"), {"has_contacts": "on"})
    rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig"))))
    assert [(row["name"], row["contact_count"]) for row in rows] == [("Busy Co", "3")]
    listed = api.get("/accounts", has_contacts="true", order="-contacts").json()
    assert [item["name"] for item in listed["items"]] == ["Busy Co"]


def test_the_measure_is_scored_by_health_recompute(csm):
    account = AccountFactory(owner=csm)
    ContactFactory.create_batch(2, account=account)
    health.recompute_health(day=date.today())
    score = HealthScore.objects.get(account=account)
    assert score.measures[MEASURE]["value"] == 2


def test_the_import_kind_is_offered_and_imports(tmp_path, csm):
    assert IMPORT_KIND in dict(UploadForm().fields["kind"].choices)
    AccountFactory(external_id="crm-1", domain="old.example")
    path = tmp_path / "domains.csv"
    path.write_text("Account ID,Website\ncrm-1,new.example\n", encoding="utf-8")
    result = runner.run(path, IMPORT_KIND, actor=csm)
    assert result.ok and result.updated == 1
    assert Account.objects.get(external_id="crm-1").domain == "new.example"
