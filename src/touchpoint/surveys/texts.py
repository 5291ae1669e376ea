"""A survey's words in each language, and the language a person reads them in.

`texts` holds, per language code (en, ja, ru, th), the question, the follow-up (the comment's
prompt), the email's subject and intro. The language is the contact's, else the account's, else
English, among the languages the survey has (journeys' `language_for`). A part missing in that
language falls back to the English one, and an empty English part to the built-in default below,
in the person's language (gettext), so a survey made with only a name still asks something sensible.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

LANGUAGES = ("en", "ja", "ru", "th")
PARTS = ("question", "follow_up", "subject", "intro")
MAX_PART = {"question": 500, "follow_up": 500, "subject": 200, "intro": 2000}


@dataclass(frozen=True)
class Words:
    language: str
    question: str
    follow_up: str
    subject: str
    intro: str


def _defaults(kind: str) -> dict[str, str]:
    questions = {
        "nps": _("How likely are you to recommend us to a friend or colleague?"),
        "csat": _("How satisfied are you with our service?"),
        "ces": _("How easy was it to get what you needed from us?"),
    }
    return {
        "question": questions.get(kind, questions["nps"]),
        "follow_up": _("What is the main reason for your score?"),
        "subject": _("A quick question from %(company)s"),
        "intro": _("It takes ten seconds: one click and, if you like, a comment."),
    }


def language_for(texts: dict[str, Any], *, contact: Any = None, account: Any = None) -> str:
    from touchpoint.journeys.rendering import language_for as journeys_language_for

    available = [code for code in LANGUAGES if isinstance(texts.get(code), dict)] or ["en"]
    if "en" not in available:
        available.append("en")
    return journeys_language_for(contact=contact, account=account, available=available)


def words(kind: str, texts: dict[str, Any], language: str, *, company: str = "") -> Words:
    """The survey's words in `language` (each missing part from English, then the default)."""
    own = texts.get(language) if isinstance(texts.get(language), dict) else {}
    english = texts.get("en") if isinstance(texts.get("en"), dict) else {}
    with translation.override(language):
        defaults = _defaults(kind)
        chosen = {}
        for part in PARTS:
            value = str((own or {}).get(part) or (english or {}).get(part) or defaults[part])
            chosen[part] = value
        if "%(company)s" in chosen["subject"]:
            chosen["subject"] = chosen["subject"].replace("%(company)s", company or _("us"))
    return Words(language=language, **chosen)


def clean_texts(texts: Any) -> dict[str, dict[str, str]]:
    """Texts as stored: known languages and parts only, stripped, empty parts dropped; raises
    ValueError (a message naming the language and part) for a part that is too long."""
    if not isinstance(texts, dict):
        raise ValueError("texts must be an object of languages")
    cleaned: dict[str, dict[str, str]] = {}
    for language, parts in texts.items():
        if language not in LANGUAGES:
            raise ValueError(f"unknown language {language!r} (use {', '.join(LANGUAGES)})")
        if not isinstance(parts, dict):
            raise ValueError(f"texts.{language} must be an object of parts")
        kept: dict[str, str] = {}
        for part, value in parts.items():
            if part not in PARTS:
                raise ValueError(f"texts.{language}: unknown part {part!r} (use {', '.join(PARTS)})")
            text = str(value or "").strip()
            if "\x00" in text:
                raise ValueError(f"texts.{language}.{part} holds a NUL character")
            if len(text) > MAX_PART[part]:
                raise ValueError(f"texts.{language}.{part}: at most {MAX_PART[part]} characters")
            if text:
                kept[part] = text
        if kept:
            cleaned[language] = kept
    return cleaned
