"""One date format per language on every page (touchpoint/formats).

Key pages are rendered in English, Japanese, Russian and Thai; every date-like string in their text
(any of the ways Django or Python could have written one: ISO, US and European numbers, Japanese
kanji, month names in any script) must be written the way that language writes a date.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.utils import timezone, translation
from django.utils.formats import date_format

from touchpoint.accounts.models import Account
from touchpoint.accounts.services import record_on_timeline
from touchpoint.revenue import services as revenue

pytestmark = pytest.mark.django_db

# Every way a date could be written, whoever wrote it.
ANY_DATE = re.compile(
    r"\b\d{4}-\d{2}-\d{2}\b"  # ISO (isoformat, |date:"Y-m-d")
    r"|\b\d{4}/\d{1,2}/\d{1,2}\b"  # 2026/03/07
    r"|\b\d{1,2}/\d{1,2}/\d{4}\b"  # 03/07/2026 (Django's English SHORT_DATE_FORMAT)
    r"|\b\d{1,2}\.\d{1,2}\.\d{4}\b"  # 07.03.2026
    r"|\d{4}年\d{1,2}月\d{1,2}日"  # 2026年3月7日
    r"|\b\d{1,2} [^\W\d_][^\W\d_.]+\.? \d{4}\b"  # 7 Mar 2026, 7 марта 2026 (Latin or Cyrillic words)
    r"|\b[A-Z][a-z]+\.? \d{1,2}, \d{4}\b"  # Mar. 7, 2026 (Django's English DATE_FORMAT)
    r"|\b\d{1,2} [\u0E00-\u0E7F][\u0E00-\u0E7F.]* \d{4}\b"  # 7 มี.ค. 2026
)

# The one way each language writes a date (the date part of a date and time included).
PATTERN = {
    "en": re.compile(r"\d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4}"),
    "ja": re.compile(r"\d{4}年\d{1,2}月\d{1,2}日"),
    "ru": re.compile(r"\d{2}\.\d{2}\.\d{4}"),
    "th": re.compile(r"\d{1,2} [\u0E00-\u0E7F]+\.[\u0E00-\u0E7F]+\. \d{4}"),
}
KICK_OFF = {"en": "7 Mar 2025", "ja": "2025年3月7日", "ru": "07.03.2025", "th": "7 มี.ค. 2025"}


class _Text(HTMLParser):
    """The text a reader sees: element text and the attributes shown on hover, not code or URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "textarea"):
            self._skip += 1
        self.parts.extend(value for name, value in attrs if name in ("title", "aria-label") and value)

    def handle_endtag(self, tag):
        if tag in ("script", "style", "textarea"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return "\n".join(parser.parts)


@pytest.fixture
def dated_account(account):
    """An account with a day to find on each page: created, started paying and met on 7 March 2025."""
    Account.objects.filter(pk=account.pk).update(created_at=datetime(2025, 3, 7, 10, 30, tzinfo=UTC))
    revenue.create_subscription(
        account=account, product="Cloud", mrr=Decimal("100"), started_on=date(2025, 3, 7)
    )
    # One renewing soon, so the renewals page has a row.
    revenue.create_subscription(
        account=account,
        product="Add-on",
        mrr=Decimal("50"),
        started_on=timezone.localdate() - timedelta(days=330),
    )
    record_on_timeline(
        account=account, kind="note", title="Kick-off", occurred_at=datetime(2025, 3, 7, 10, 30, tzinfo=UTC)
    )
    return account


def pages(client: Client, account: Account) -> dict[str, str]:
    """The account page with every panel it loads, the timeline, the renewals and the revenue pages."""
    found = {}
    detail = client.get(f"/accounts/{account.pk}/").content.decode()
    found["account"] = detail
    for url in sorted(set(re.findall(r'hx-get="([^"]+)" hx-trigger="load"', detail))):
        found[url] = client.get(url).content.decode()
    found["timeline"] = client.get(f"/accounts/{account.pk}/timeline/").content.decode()
    found["renewals"] = client.get("/renewals/").content.decode()
    found["revenue"] = client.get("/revenue/", {"start": "2025-01", "end": "2025-06"}).content.decode()
    return found


@pytest.mark.parametrize("language", ["en", "ja", "ru", "th"])
def test_every_date_on_the_key_pages_is_written_the_languages_way(leader, dated_account, language):
    client = Client()
    client.force_login(leader)
    client.cookies["django_language"] = language
    seen = []
    for name, html in pages(client, dated_account).items():
        text = visible_text(html)
        for found in ANY_DATE.findall(text):
            assert PATTERN[language].fullmatch(found), f"{language}: {found!r} on {name}"
            seen.append(found)
    assert KICK_OFF[language] in seen  # the test found the dates it is about
    assert len(seen) >= 5


@pytest.mark.parametrize("language", ["en", "ja", "ru", "th"])
def test_the_formats_agree_with_one_another(language):
    """A day, a moment and the SHORT_ variants all write the day the same way."""
    moment = datetime(2025, 3, 7, 10, 30, tzinfo=UTC)
    with translation.override(language):
        day = date_format(moment.date(), "DATE_FORMAT")
        assert day == KICK_OFF[language]
        assert date_format(moment.date(), "SHORT_DATE_FORMAT") == day
        assert date_format(moment, "DATETIME_FORMAT").startswith(day)
        assert date_format(moment, "SHORT_DATETIME_FORMAT").startswith(day)
