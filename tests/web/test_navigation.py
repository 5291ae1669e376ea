"""The navigation registry: entries in order, each shown only to people with its permission."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from touchpoint.web.navigation import Navigation, nav

pytestmark = pytest.mark.django_db


def test_entries_come_in_order_and_a_key_is_replaced_not_repeated():
    menu = Navigation()
    menu.add(key="b", label="B", url_name="b", order=20)
    menu.add(key="a", label="A", url_name="a", order=20)
    menu.add(key="c", label="C", url_name="c", order=10)
    menu.add(key="c", label="C again", url_name="c", order=30)
    assert [(e.key, e.label) for e in menu.entries()] == [("a", "A"), ("b", "B"), ("c", "C again")]


def _nav_keys(client) -> list[str]:
    return re.findall(r'data-nav="([^"]+)"', client.get(reverse("portfolio")).content.decode())


def test_each_app_registers_its_own_entries_and_permissions_hide_them(csm_client, admin_user, client):
    registered = [entry.key for entry in nav.entries()]
    for key in (
        "home",
        "portfolio",
        "sources",
        "key-features",
        "renewals",
        "revenue-dashboard",
        "health-scorecards",
    ):
        assert key in registered
    assert registered[0] == "home"
    csm_keys = _nav_keys(csm_client)
    assert csm_keys[0] == "home" and "sources" not in csm_keys  # event sources are for admins
    client.force_login(admin_user)
    assert "sources" in _nav_keys(client)


def test_home_and_login_lead_to_the_first_entry(csm_client, csm, client):
    assert csm_client.get(reverse("home"))["Location"] == reverse("my-day")
    response = client.post(
        reverse("login"), {"username": csm.email, "password": "correct horse battery staple"}
    )
    assert response.status_code == 302
    assert client.get(response["Location"])["Location"] == reverse("my-day")


@pytest.mark.django_db
def test_a_section_entry_stays_current_on_every_page_of_its_section(client, admin_user):
    client.force_login(admin_user)
    for url in ("/success/frameworks/", "/success/funnel/", "/success/time-to-value/"):
        html = client.get(url).content.decode()
        assert re.search(r'data-nav="success" aria-current="page"', html), url
        assert 'data-nav="time-to-value"' not in html  # a tab of the section, not a menu entry


def test_grouped_entries_show_once_as_a_drop_down_and_a_lone_member_stands_alone(rf, admin_user, csm):
    from django.contrib.auth.models import AnonymousUser

    from touchpoint.web import context_processors
    from touchpoint.web import navigation as navigation_module

    menu = Navigation()
    menu.add_group(key="tools", label="Tools", order=50)
    menu.add_group(key="solo", label="Solo", order=60)
    menu.add(key="home", label="Home", url_name="my-day", order=0)
    menu.add(key="a", label="A", url_name="portfolio", order=10, group="tools")
    menu.add(key="b", label="B", url_name="tasks", order=5, group="tools")
    menu.add(
        key="c",
        label="C",
        url_name="health-scorecards",
        order=1,
        group="solo",
        permission="health.view_scorecard",
    )
    menu.add(key="d", label="D", url_name="key-features", order=70, group="no-such-group")
    original = navigation_module.nav
    context_processors.nav = menu
    try:
        request = rf.get(reverse("portfolio"))
        request.user = admin_user
        items = context_processors.navigation(request)["nav_items"]
        assert [item["key"] for item in items] == [
            "home",
            "tools",
            "c",
            "d",
        ]  # by order; the group at its own
        tools = items[1]
        assert tools["group"] and [m["key"] for m in tools["items"]] == ["b", "a"] and tools["active"]
        request.user = AnonymousUser()
        assert context_processors.navigation(request)["nav_items"] == []
    finally:
        context_processors.nav = original


def test_the_page_menu_puts_setup_pages_in_their_drop_down(client, admin_user):
    client.force_login(admin_user)
    html = client.get(reverse("portfolio")).content.decode()
    setup = html[html.index('data-nav-group="setup"') :]
    setup = setup[: setup.index("</div>\n        </div>")]
    for key in ("sources", "key-features", "health-scorecards", "imports"):
        assert f'data-nav="{key}"' in setup
    assert html.index('data-nav="portfolio"') < html.index('data-nav-group="setup"')
