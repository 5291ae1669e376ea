"""Japanese and Thai pages draw every character with a real glyph: no "tofu" boxes.

How a missing glyph is found. When no installed font has a character, the browser draws the
primary font's .notdef glyph (the empty box, "tofu"), the same picture for every such character. So,
in the page itself, for every character of every text node (HTML and the SVG text of the charts):

1. draw it on a canvas at 32 px in the font stack its element is styled with (its computed
   font-family, so the browser's own fallback through installed fonts applies, as on the page);
2. draw, in the same stack, a character that no font has: U+10FFFD (the last private-use code point
   of plane 16), i.e. the tofu box of that stack;
3. if the two pictures are identical pixel for pixel, the character has no glyph.

The method is shown to fail when it should: the same pages are opened in a browser whose fontconfig
rejects the Thai (TLWG) or the Japanese (Noto CJK) font files, and there the check must report the
Thai or Japanese characters as missing. The fonts come from Debian's fonts-thai-tlwg and
fonts-noto-cjk (scripts/ensure-system-packages.sh installs them for the tests).
"""

from __future__ import annotations

import os
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse

from tests.browser.conftest import CHROMIUM
from tests.factories import AccountFactory, SegmentFactory, UserFactory
from touchpoint.accounts.services import record_on_timeline
from touchpoint.revenue import services
from touchpoint.revenue.models import ChurnReason
from touchpoint.users.roles import Role

pytestmark = pytest.mark.django_db(transaction=True)

MISSING_GLYPHS = r"""
async () => {
  await document.fonts.ready;
  const canvas = document.createElement('canvas');
  canvas.width = 64; canvas.height = 64;
  const ctx = canvas.getContext('2d', {willReadFrequently: true});
  const draw = (text, family) => {
    ctx.clearRect(0, 0, 64, 64);
    ctx.font = `32px ${family}`;
    ctx.textBaseline = 'middle';
    ctx.fillText(text, 8, 32);
    return ctx.getImageData(0, 0, 64, 64).data.join(',');
  };
  // Not drawn on their own: spaces, controls, zero-width and joining characters, variation selectors.
  const invisible = /[\s\p{Cc}\p{Cf}\u200b-\u200d\ufe00-\ufe0f]/u;
  const tofu = new Map();
  const seen = new Set();
  const missing = [];
  const walker = document.createTreeWalker(document.documentElement, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const element = node.parentElement;
    if (!element || ['SCRIPT', 'STYLE', 'TITLE', 'NOSCRIPT'].includes(element.tagName)) continue;
    const family = getComputedStyle(element).fontFamily;
    if (!tofu.has(family)) tofu.set(family, draw('\u{10FFFD}', family));
    for (const char of node.data) {
      if (invisible.test(char) || seen.has(family + char)) continue;
      seen.add(family + char);
      if (draw(char, family) === tofu.get(family)) {
        missing.push({char, code: 'U+' + char.codePointAt(0).toString(16).toUpperCase(), family,
                      where: element.tagName.toLowerCase() + ': ' + node.data.trim().slice(0, 40)});
      }
    }
  }
  return {missing, checked: seen.size};
}
"""


@pytest.fixture
def thai_and_japanese_book(db):
    """A leader, an account with Japanese and Thai people in it, revenue for the charts, a timeline."""
    leader = UserFactory(role=Role.CS_LEADER, email="leader@example.com", full_name="สมชาย ใจดี")
    csm = UserFactory(role=Role.CSM, email="csm@example.com", full_name="佐藤 美咲")
    account = AccountFactory(
        name="บริษัท สยามคลาวด์ 株式会社", owner=csm, segment=SegmentFactory(name="Enterprise")
    )
    subscription = services.create_subscription(
        account=account, product="Cloud", mrr=Decimal("1000"), started_on=date(2026, 1, 10), confirm=True
    )
    services.change_subscription(subscription=subscription, mrr=Decimal("800"), occurred_on=date(2026, 3, 3))
    other = services.create_subscription(
        account=AccountFactory(name="ไทยซอฟต์"),
        product="Cloud",
        mrr=Decimal("400"),
        started_on=date(2026, 1, 12),
        confirm=True,
    )
    services.cancel_subscription(
        subscription=other,
        canceled_on=date(2026, 2, 20),
        churn_reason=ChurnReason.objects.get_or_create(name="Budget cut")[0],
    )
    for kind in ("note", "meeting", "call", "email"):
        record_on_timeline(account=account, kind=kind, title="打ち合わせ / ประชุม")
    return leader, account


def pages(account) -> list[str]:
    return [
        reverse("my-day"),
        reverse("portfolio"),
        reverse("account-detail", args=[account.pk]),
        reverse("revenue-dashboard") + "?start=2026-01&end=2026-06",
        reverse("renewals"),
        reverse("health-scorecards"),
    ]


def missing_glyphs(page, base_url: str, language: str, paths: list[str]) -> tuple[list[dict], int]:
    page.context.add_cookies([{"name": "django_language", "value": language, "url": base_url}])
    missing, checked = [], 0
    for path in paths:
        page.goto(base_url + path)
        page.wait_for_load_state("networkidle")  # the account page's panels come by htmx
        found = page.evaluate(MISSING_GLYPHS)
        missing += [dict(item, page=path) for item in found["missing"]]
        checked += found["checked"]
    return missing, checked


@pytest.mark.parametrize("language", ["ja", "th"])
def test_japanese_and_thai_pages_have_a_glyph_for_every_character(
    page, live_server, log_in, thai_and_japanese_book, language
):
    leader, account = thai_and_japanese_book
    log_in(page, leader)
    missing, checked = missing_glyphs(page, live_server.url, language, pages(account))
    assert checked > 200  # the check looked at the pages' characters
    assert not missing, missing[:20]


FONT_FILES = {"th": "/usr/share/fonts/truetype/tlwg/*", "ja": "/usr/share/fonts/opentype/noto/*CJK*"}
SAMPLE = {"th": "ก", "ja": "日"}


@pytest.mark.parametrize("language", ["ja", "th"])
def test_the_check_finds_the_glyphs_a_missing_font_would_draw_as_boxes(
    playwright, live_server, thai_and_japanese_book, language, tmp_path: Path
):
    """The same check in a browser that cannot see the language's font reports its characters."""
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium is not installed at {CHROMIUM}")
    config = tmp_path / "fonts.conf"
    config.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        '<include ignore_missing="yes">/etc/fonts/fonts.conf</include>'
        f"<selectfont><rejectfont><glob>{FONT_FILES[language]}</glob></rejectfont></selectfont>"
        "</fontconfig>"
    )
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM),
        args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        env={**os.environ, "FONTCONFIG_FILE": str(config)},
    )
    try:
        page = browser.new_page()
        page.set_content(f"<p>{SAMPLE[language]}</p>")
        found = page.evaluate(MISSING_GLYPHS)
        assert [item["char"] for item in found["missing"]] == [SAMPLE[language]]

        leader, account = thai_and_japanese_book
        page.goto(live_server.url + "/login/")
        page.fill("input[name=username]", leader.email)
        page.fill("input[name=password]", "correct horse battery staple")
        page.press("input[name=password]", "Enter")
        page.wait_for_url(f"{live_server.url}/my-day/**")
        missing, _checked = missing_glyphs(page, live_server.url, language, pages(account)[:3])
    finally:
        browser.close()
    chars = {item["char"] for item in missing}
    if language == "th":
        assert {"ก", "ท", "ร"} <= chars  # Thai letters of the menu and the account's name
    else:
        assert {"株", "式", "会", "社"} <= chars
    assert not chars & set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
