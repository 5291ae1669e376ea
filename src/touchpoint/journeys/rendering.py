"""A journey message, rendered for one person in their language: subject, plain text and HTML.

Templates are Django template text (`Hello {{ contact.first_name }}`), written by the people who
edit journeys, so they get a deliberately small world:

- the context holds plain values only (strings, dates, dicts of them): never a model instance, so a
  template cannot call a method or walk a relation (`{{ account.delete }}` is just empty);
- a variable that does not exist renders as nothing;
- the HTML version escapes every value (autoescape), the text version does not escape at all;
- a template that does not compile (`{% if %}` never closed, an unknown tag or filter) raises a
  ValidationError naming the message and the language, at validation and in the preview, not as a
  500 in a worker.

What a template can use:

    {{ contact.name }} {{ contact.first_name }} {{ contact.email }}
    {{ account.name }} {{ owner.name }} {{ owner.email }}
    {{ renewal_date }} (a date: {{ renewal_date|date:"j F Y" }}), also {{ account.renewal_date }}
    {{ entry.<key> }}  what the entry brought (an event's properties, the renewal date…)

The language is the contact's, else the account's, else English, restricted to the languages the
message has (`language_for`). Dates format in that language.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from django.core.exceptions import ValidationError
from django.template import Context, Engine
from django.utils import translation
from django.utils.html import linebreaks, strip_tags, urlize
from django.utils.translation import gettext as _

from touchpoint.journeys.definition import JourneyDefinition, MessageText, parse

FALLBACK_LANGUAGE = "en"

# Two engines with no loaders and no extra tag libraries: {% include %}/{% extends %} find nothing.
_HTML_ENGINE = Engine(autoescape=True, string_if_invalid="")
_TEXT_ENGINE = Engine(autoescape=False, string_if_invalid="")

_LOOKS_LIKE_HTML = re.compile(r"<[A-Za-z/!][^>]*>")


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    language: str


def language_for(*, contact: Any = None, account: Any = None, available: Iterable[str]) -> str:
    """The language to write to this person in: theirs, else their account's, else English, among
    the languages the message has (a message always has English)."""
    languages = set(available)
    for candidate in (
        getattr(contact, "language", "") or "",
        getattr(account, "language", "") or "",
    ):
        base = candidate.split("-")[0].lower()
        if base and base in languages:
            return base
    if FALLBACK_LANGUAGE in languages or not languages:
        return FALLBACK_LANGUAGE
    return sorted(languages)[0]


def _definition_of(definition: JourneyDefinition | Mapping[str, Any]) -> JourneyDefinition:
    if isinstance(definition, JourneyDefinition):
        return definition
    return parse(definition)


def _next_renewal(account: Any) -> date | None:
    """The account's earliest renewal date among its live subscriptions (None without one)."""
    if account is None or getattr(account, "pk", None) is None:
        return None
    from touchpoint.revenue.portfolio_columns import next_renewal_subquery

    found = type(account).objects.filter(pk=account.pk).annotate(next_renewal=next_renewal_subquery())
    return found.values_list("next_renewal", flat=True).first()


def _plain(value: Any, depth: int = 0) -> Any:
    """Entry data as plain values (JSON already is; this guards against anything else slipping in)."""
    if depth > 6:
        return ""
    if isinstance(value, Mapping):
        return {str(k): _plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v, depth + 1) for v in value]
    if value is None or isinstance(value, str | int | float | bool | date):
        return value
    return str(value)


def template_context(
    *, account: Any = None, contact: Any = None, entry_data: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """What a message template sees: plain values only (see the module docstring)."""
    entry = _plain(dict(entry_data or {}))
    renewal = entry.get("renewal_date") if isinstance(entry.get("renewal_date"), date) else None
    if renewal is None and isinstance(entry.get("renewal_date"), str):
        try:
            renewal = date.fromisoformat(entry["renewal_date"])
        except ValueError:
            renewal = None
    if renewal is None:
        renewal = _next_renewal(account)
    owner = getattr(account, "owner", None) if account is not None else None
    contact_name = (getattr(contact, "name", "") or "").strip() if contact is not None else ""
    return {
        "contact": {
            "name": contact_name,
            "first_name": contact_name.split()[0] if contact_name else "",
            "email": getattr(contact, "email", "") or "" if contact is not None else "",
        },
        "account": {
            "name": getattr(account, "name", "") or "" if account is not None else "",
            "renewal_date": renewal,
        },
        "owner": {
            "name": owner.get_full_name() if owner is not None else "",
            "email": getattr(owner, "email", "") or "" if owner is not None else "",
        },
        "renewal_date": renewal,
        "entry": entry,
    }


@lru_cache(maxsize=1024)
def _compiled(autoescape: bool, source: str) -> Any:
    """A compiled template, kept: a worker sends the same few templates thousands of times."""
    return (_HTML_ENGINE if autoescape else _TEXT_ENGINE).from_string(source)


def _compile(engine: Engine, source: str, *, message_key: str, language: str, part: str):
    try:
        return _compiled(engine.autoescape, source)
    except Exception as error:  # TemplateSyntaxError, an unknown library…: the author's mistake
        raise ValidationError(
            _("Message “%(message)s” (%(language)s), %(part)s: %(error)s")
            % {"message": message_key, "language": language, "part": part, "error": error},
            code="template",
        ) from error


def _render(template: Any, context: dict[str, Any], *, message_key: str, language: str, part: str) -> str:
    try:
        return template.render(Context(context, autoescape=template.engine.autoescape))
    except Exception as error:  # {% include "x" %} (no loaders), a filter that fails on its value
        raise ValidationError(
            _("Message “%(message)s” (%(language)s), %(part)s: %(error)s")
            % {"message": message_key, "language": language, "part": part, "error": error},
            code="template",
        ) from error


def check_message(text: MessageText, *, message_key: str, language: str) -> None:
    """Raise ValidationError when the message's subject or body does not compile."""
    _compile(_TEXT_ENGINE, text.subject, message_key=message_key, language=language, part=_("subject"))
    _compile(_HTML_ENGINE, text.body, message_key=message_key, language=language, part=_("body"))


def render(
    definition: JourneyDefinition | Mapping[str, Any],
    message_key: str,
    *,
    language: str | None = None,
    account: Any = None,
    contact: Any = None,
    entry_data: Mapping[str, Any] | None = None,
) -> Rendered:
    """The message `message_key` of the journey, for this contact (or account), in their language.

    `language` forces a language (the builder's preview of each language); when the message lacks it,
    the usual fallback applies. Raises ValidationError for an unknown message or a broken template.
    """
    journey = _definition_of(definition)
    by_language = journey.messages.get(message_key)
    if not by_language:
        raise ValidationError(
            _("The journey has no message “%(message)s”.") % {"message": message_key}, code="unknown"
        )
    available = list(by_language)
    if language and language in by_language:
        chosen = language
    else:
        chosen = language_for(contact=contact, account=account, available=available)
    text = by_language[chosen]  # type: ignore[index]
    context = template_context(account=account, contact=contact, entry_data=entry_data)
    where = {"message_key": message_key, "language": chosen}
    subject_template = _compile(_TEXT_ENGINE, text.subject, part=_("subject"), **where)
    text_template = _compile(_TEXT_ENGINE, text.body, part=_("body"), **where)
    html_template = _compile(_HTML_ENGINE, text.body, part=_("body"), **where)
    with translation.override(chosen):
        subject = _render(subject_template, context, part=_("subject"), **where)
        body_text = _render(text_template, context, part=_("body"), **where)
        body_html = _render(html_template, context, part=_("body"), **where)
    subject = " ".join(subject.split())  # one line: a header cannot hold a line break
    if _LOOKS_LIKE_HTML.search(text.body):
        # The author wrote markup: the HTML keeps it, the text version drops it.
        body_text = strip_tags(body_text)
        html = body_html
    else:
        html = linebreaks(urlize(body_html, autoescape=False), autoescape=False)
    return Rendered(subject=subject, text=body_text.strip() + "\n", html=html, language=chosen)
