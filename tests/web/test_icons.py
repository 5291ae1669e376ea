"""Icons are inline SVG: nothing on a page depends on an emoji font."""

from __future__ import annotations

import re

import pytest
from django.template import Context, Template

from tests.conftest import logged_in_client
from touchpoint.accounts import timeline
from touchpoint.accounts.services import record_on_timeline
from touchpoint.web.icons import ICONS, icon_key, icon_svg

# Emoji and pictographs (the code points an emoji font draws).
EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\ufe0f]")


def test_every_registered_timeline_kind_draws_a_known_icon():
    kinds = timeline.registered_kinds()
    assert len(kinds) > 10
    for kind in kinds:
        assert kind.icon in ICONS, (kind.value, kind.icon)


def test_register_kind_keeps_taking_an_emoji_or_any_name():
    try:
        assert timeline.register_kind("test_calendar", label="x", icon="📅").icon == "calendar"
        assert timeline.register_kind("test_edit", label="x", icon="✏️").icon == "edit"
        assert timeline.register_kind("test_key", label="x", icon="renewal").icon == "renewal"
        assert timeline.register_kind("test_unknown", label="x", icon="🦄").icon == "dot"
    finally:
        for value in ("test_calendar", "test_edit", "test_key", "test_unknown"):
            timeline._KINDS.pop(value, None)
    assert timeline.kind_info("never_registered").icon == "dot"


def test_icon_svg_is_self_contained_and_hidden_unless_labelled():
    hidden = icon_svg("calendar")
    assert hidden.startswith("<svg") and 'aria-hidden="true"' in hidden and "currentColor" in hidden
    assert "http" not in hidden.replace("http://www.w3.org", "")  # nothing fetched
    labelled = icon_svg("warning", label="Past due")
    assert 'role="img"' in labelled and 'aria-label="Past due"' in labelled
    assert icon_key("⚠️") == "warning" and icon_key("⚠") == "warning"


def test_the_icon_tag():
    html = Template('{% load icons %}{% icon "check" %}{% icon name label="Done" %}').render(
        Context({"name": "x-circle"})
    )
    assert 'class="icon icon-check"' in html and 'class="icon icon-x-circle"' in html and "Done" in html


@pytest.mark.django_db
def test_the_timeline_draws_svg_icons_and_no_emoji(csm, account):
    for kind in ("note", "meeting", "call", "email"):
        record_on_timeline(account=account, kind=kind, title=f"A {kind}")
    html = logged_in_client(csm).get(f"/accounts/{account.pk}/timeline/").content.decode()
    for key in ("note", "meeting", "call", "email"):
        assert f'class="icon icon-{key}"' in html
    assert not EMOJI.search(html), EMOJI.findall(html)
