"""Sending surveys through journeys, and the answer link each invitation carries.

Surveys write no email of their own. A journey's `survey` step (journeys/survey_steps.py) makes an
ordinary email or in-app outbox row whose payload names the survey; journeys delivers it (consent,
quiet hours, the weekly cap, exactly once) and asks this module for its words (`message`, the
registered provider). "Send survey" (the survey page, the API) goes the same way: each survey has
a small journey per channel, `survey-<key>-email` / `survey-<key>-in-app` (manual entry, one survey
step), made and launched on first use, and the service enrolls the chosen people in it.

The answer link is `/s/<token>/`: the token is the outbox row's id signed with the site's key (no
one can make a link for another invitation). The page shows the question; only its POST answers, so
a mail scanner that follows the link answers nothing. The email's scale buttons link to the page
with the score chosen (`?score=9`), still to be confirmed by the person.

The throttle (surveys/throttle.py) is checked when people are picked and again when each email is
claimed (a row of any journey): an invitation over a wait is suppressed with the reason.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext as _

from touchpoint.accounts.models import Account, Contact
from touchpoint.journeys.survey_steps import SurveyMessage, SurveyProvider, SurveySkipped, survey_key
from touchpoint.surveys import texts as survey_texts
from touchpoint.surveys import throttle
from touchpoint.surveys.models import SCALES, Answer, Decline, Survey

SALT = "touchpoint.surveys.answer"
CHANNELS = ("email", "in_app")
MAX_SEND = 5000  # people in one send


# --- The answer link --------------------------------------------------------------------------------


def _signer() -> signing.Signer:
    return signing.Signer(salt=SALT, sep=".")


def token_for(row: Any) -> str:
    return _signer().sign(str(row.pk))


def row_for_token(token: str) -> Any:
    """The invitation (outbox row) a token names; None when forged, or the row is gone or no survey's."""
    from touchpoint.journeys.models import OutboxRow

    try:
        row_id = int(_signer().unsign(token))
    except (signing.BadSignature, ValueError):
        return None
    if not 0 < row_id < 2**63:
        return None
    row = OutboxRow.objects.select_related("account", "contact").filter(pk=row_id).first()
    if row is None or not survey_key(row.payload):
        return None
    return row


def answer_path(row: Any) -> str:
    return reverse("survey-answer", args=[token_for(row)])


def answer_url(row: Any) -> str:
    return settings.TOUCHPOINT_BASE_URL.rstrip("/") + answer_path(row)


# --- The provider journeys calls ---------------------------------------------------------------------


def survey_keys() -> list[str]:
    return list(Survey.objects.filter(is_active=True).values_list("key", flat=True))


def _company() -> str:
    return getattr(settings, "TOUCHPOINT_COMPANY_NAME", "") or ""


def message(*, row: Any, account: Account, contact: Contact, now: datetime) -> SurveyMessage:
    """The invitation for one outbox row, in the person's language; SurveySkipped when not to ask."""
    survey = Survey.objects.filter(key=survey_key(row.payload)).first()
    if survey is None or not survey.is_active:
        raise SurveySkipped("no_survey")
    if (
        Answer.objects.filter(outbox_row_id=row.pk).exists()
        or Decline.objects.filter(outbox_row_id=row.pk).exists()
    ):
        raise SurveySkipped("answered")
    if row.kind == "email":
        reason = throttle.reason_not_to_survey(
            contact_id=contact.pk, account_id=account.pk, now=now, excluding_row=row.pk
        )
        if reason:
            raise SurveySkipped(reason)
    language = survey_texts.language_for(survey.texts, contact=contact, account=account)
    words = survey_texts.words(survey.kind, survey.texts, language, company=_company())
    url = answer_url(row)
    lowest, highest = SCALES[survey.kind]
    with translation.override(language):
        greeting = (
            _("Hello %(name)s,") % {"name": contact.name.split()[0]} if contact.name.strip() else _("Hello,")
        )
        cta = _("Answer")
        pick = _("Choose your score:")
        low_label, high_label = _scale_ends(survey.kind)
    text = f"{greeting}\n\n{words.intro}\n\n{words.question}\n\n{cta}: {url}\n"
    buttons = "".join(
        f'<a href="{escape(url)}?score={score}" style="display:inline-block;min-width:28px;padding:6px 4px;'
        f"margin:2px;border:1px solid #8a94a6;border-radius:4px;text-align:center;text-decoration:none;"
        f'color:#1f2937">{score}</a>'
        for score in range(lowest, highest + 1)
    )
    html = (
        f"<p>{escape(greeting)}</p><p>{escape(words.intro)}</p>"
        f"<p><strong>{escape(words.question)}</strong></p>"
        f"<p>{escape(pick)}</p><p>{buttons}</p>"
        f'<p style="font-size:12px;color:#666">{lowest} = {escape(low_label)} · {highest} = {escape(high_label)}</p>'
        f'<p><a href="{escape(url)}">{escape(cta)}</a></p>'
    )
    return SurveyMessage(
        subject=words.subject, text=text, html=html, language=language, url=url, cta_label=cta
    )


def _scale_ends(kind: str) -> tuple[str, str]:
    if kind == "nps":
        return _("not at all likely"), _("extremely likely")
    if kind == "csat":
        return _("very unsatisfied"), _("very satisfied")
    return _("very difficult"), _("very easy")


def register() -> None:
    from touchpoint.journeys.survey_steps import register_survey_provider

    register_survey_provider(SurveyProvider(survey_keys=survey_keys, message=message))


# --- "Send survey": a journey per survey and channel ------------------------------------------------


def journey_key(survey: Survey, channel: str) -> str:
    return f"survey-{survey.key}-{'in-app' if channel == 'in_app' else 'email'}"


def journey_source(survey: Survey, channel: str) -> str:
    import yaml

    definition = {
        "key": journey_key(survey, channel),
        "name": f"Survey: {survey.name} ({'in-app' if channel == 'in_app' else 'email'})"[:200],
        "description": "Made by the surveys app: “Send survey” enrolls the chosen people here.",
        "subject": "contact",
        "entry": {"trigger": "manual"},
        "reentry": {"policy": "after_exit"},
        "steps": [{"id": "ask", "type": "survey", "survey": survey.key, "channel": channel}],
    }
    return yaml.safe_dump(definition, sort_keys=False, allow_unicode=True)


def sending_journey(survey: Survey, channel: str, *, actor: Any = None) -> Any:
    """The survey's live sending journey for this channel (saved and launched when missing)."""
    from touchpoint.journeys import services as journeys
    from touchpoint.journeys.models import Journey, JourneyStatus

    key = journey_key(survey, channel)
    journey = Journey.objects.filter(key=key).first()
    if journey is not None and journey.status == JourneyStatus.LIVE and journey.live_version_id:
        return journey
    if journey is not None and journey.status == JourneyStatus.PAUSED:
        raise ValidationError({"channel": _("The survey's sending journey is paused: resume it first.")})
    if journey is not None and journey.status == JourneyStatus.ARCHIVED:
        raise ValidationError({"channel": _("The survey's sending journey is archived.")})
    version = journeys.save_version(source=journey_source(survey, channel), actor=actor, note="surveys")
    return journeys.launch(journey=version.journey, version=version, actor=actor)


@dataclass
class Sent:
    enrolled: int = 0
    skipped: Counter[str] = field(default_factory=Counter)


@transaction.atomic
def send_survey(
    *,
    survey: Survey,
    contacts: list[Contact],
    channel: str = "email",
    actor: Any = None,
    now: datetime | None = None,
) -> Sent:
    """Invite these people through the survey's sending journey. People within a wait, without an
    address (email) or already invited by this send are skipped (counted by reason); the account
    cap and consent are applied by journeys and the provider when each email is claimed."""
    from touchpoint.journeys import engine

    if channel not in CHANNELS:
        raise ValidationError({"channel": _("Choose email or in-app.")})
    if not survey.is_active:
        raise ValidationError({"survey": _("This survey is not active.")})
    if not contacts:
        raise ValidationError({"contacts": _("Choose at least one person.")})
    if len(contacts) > MAX_SEND:
        raise ValidationError({"contacts": _("Send to at most %(n)d people at once.") % {"n": MAX_SEND}})
    now = now or timezone.now()
    journey = sending_journey(survey, channel, actor=actor)
    version = journey.live_version
    waiting = throttle.throttled_contacts([c.pk for c in contacts], now=now)
    result = Sent()
    batch = f"{now:%Y%m%d%H%M%S%f}"
    for contact in contacts:
        if contact.pk in waiting:
            result.skipped[throttle.THROTTLED] += 1
            continue
        if channel == "email" and not contact.email:
            result.skipped["no_address"] += 1
            continue
        enrollment = engine.enroll(
            version=version,
            account=contact.account,
            contact=contact,
            entry_key=f"send:{batch}",
            entry_data={"survey": survey.key},
            at=now,
            actor=actor,
        )
        if enrollment is None:
            result.skipped["not_enrolled"] += 1
        else:
            result.enrolled += 1
    return result
