"""The catalogues of Japanese, Russian and Thai: complete, real, and in step with the code."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.test import Client
from django.urls import reverse
from django.utils import translation

import touchpoint

PACKAGE = Path(touchpoint.__file__).parent
LANGUAGES = ["ja", "ru", "th"]
# Words that stay the same in every language we ship (names, abbreviations, formats).
SAME_IN_EVERY_LANGUAGE = {
    "API",
    "Touchpoint",
    "CSV",
    "ID",
    "URL",
    "OpenAPI",
    "SMB",
    "%(name)s",
    "KPI",
    "MRR",
    "ARR",
    "GRR",
    "NRR",
    "Stripe",
    "HubSpot",
    "Salesforce",
    "YAML",
    "AUC",
    "ROC AUC",
    "Segment",
    "Webhook",
    "CSM",
}


def language_neutral(text: str) -> bool:
    """Only placeholders, figures, punctuation and the words above: nothing to translate."""
    words = re.sub(r"\W+", " ", re.sub(r"%\([a-z_]+\)[sdrf]", " ", text)).split()
    return all(word in SAME_IN_EVERY_LANGUAGE or word.isdigit() for word in words)


def catalogue(language: str):
    with (PACKAGE / "locale" / language / "LC_MESSAGES" / "django.po").open("rb") as po_file:
        return read_po(po_file, locale=language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_string_is_translated_and_not_fuzzy(language):
    untranslated, fuzzy, copied = [], [], []
    for message in catalogue(language):
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings):
            untranslated.append(message.id)
        if message.fuzzy:
            fuzzy.append(message.id)
        singular = message.id[0] if isinstance(message.id, tuple) else message.id
        if (
            strings[0] == singular
            and singular not in SAME_IN_EVERY_LANGUAGE
            and not language_neutral(singular)
        ):
            copied.append(singular)
    assert not untranslated, f"untranslated in {language}: {untranslated}"
    assert not fuzzy, f"fuzzy in {language}: {fuzzy}"
    assert not copied, f"copied English in {language}: {copied}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_placeholders_match_the_english(language):
    problems = []
    messages = catalogue(language)  # parsed once: a parse per message took minutes
    for message in messages:
        if message.id:
            problems += [f"{message.id!r}: {error}" for error in message.check(messages)]
    assert not problems


@pytest.mark.skipif(
    shutil.which("xgettext") is None and os.environ.get("CI") != "true",
    reason="GNU gettext (xgettext) is not installed; make test installs it",
)
def test_catalogues_hold_every_string_of_the_code(tmp_path):
    """Extract the strings afresh (as `make messages` does) and compare with what we ship."""
    copy = tmp_path / "touchpoint"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    # makemessages writes into settings.LOCALE_PATHS[0]: point it at the copy, never at our catalogues.
    extract = (
        "import sys, django; from django.conf import settings; django.setup();"
        "settings.LOCALE_PATHS = [sys.argv[1]];"
        "from django.core.management import call_command;"
        "call_command('makemessages', locale=['ja'], no_location=True, verbosity=0)"
    )
    subprocess.run(
        [sys.executable, "-c", extract, str(copy / "locale")],
        cwd=copy,
        check=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "touchpoint.settings"},
    )
    with (copy / "locale" / "ja" / "LC_MESSAGES" / "django.po").open("rb") as po_file:
        fresh = {m.id for m in read_po(po_file) if m.id}
    shipped = {m.id for m in catalogue("ja") if m.id}
    missing = fresh - shipped
    assert not missing, (
        f"strings in the code but not in the catalogues (run make messages): {sorted(missing, key=str)}"
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "portfolio", "log_out"),
    [("ja", "ポートフォリオ", "ログアウト"), ("ru", "Портфель", "Выйти"), ("th", "พอร์ตโฟลิโอ", "ออกจากระบบ")],
)
def test_pages_speak_the_chosen_language(csm, account, language, portfolio, log_out):
    client = Client()
    client.force_login(csm)
    client.post(reverse("set_language"), {"language": language, "next": "/"})
    body = client.get(reverse("portfolio")).content.decode()
    assert portfolio in body and log_out in body
    assert f'lang="{language}"' in body


@pytest.mark.django_db
def test_dates_follow_the_language(csm, account):
    client = Client()
    client.force_login(csm)
    client.post(reverse("set_language"), {"language": "ja", "next": "/"})
    body = client.get(reverse("account-detail", args=[account.pk])).content.decode()
    with translation.override("ja"):
        from django.utils.formats import date_format

        expected = date_format(account.created_at, "DATE_FORMAT")
    assert "年" in expected and expected in body
