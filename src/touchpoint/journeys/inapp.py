"""In-app messages for the product to show: `GET /v1/messages?userId=U`, `POST /v1/messages/{id}/seen|clicked`.

Beside the tracking API at the site root and authenticated the same way: an event source's write key
as the HTTP Basic user name (usage/tracking.py decides who it is; a missing or unknown key is a 401
in the tracking API's JSON shape). The person is found by `userId` as the tracking API finds them:
a contact whose external ID it is, or the contact its product user was matched to.

A message is available once the journey's in-app step has been delivered (its outbox row `sent`)
until the person clicks it; the newest come first, at most 20, each rendered in the person's language
(journeys/rendering). `seen` stamps `opened_at` and `clicked` stamps `clicked_at` (and `opened_at`
when the product never reported the view), each once: repeating a report changes nothing and still
answers 200. Another person's message, or one that is not an in-app message, is a 404.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from touchpoint.accounts.models import Contact
from touchpoint.journeys import tracking
from touchpoint.journeys.definition import MessageText
from touchpoint.journeys.models import OutboxKind, OutboxRow, OutboxStatus
from touchpoint.journeys.survey_steps import SurveySkipped, survey_key, survey_provider
from touchpoint.journeys.triggers import definition_of
from touchpoint.usage.models import ProductUser
from touchpoint.usage.tracking import _error, _source

logger = logging.getLogger(__name__)

MAX_MESSAGES = 20
MAX_USER_ID = 255  # as the tracking API stores it (ProductUser.user_id)
BIGINT_MAX = 2**63 - 1
MAX_BODY = 8 * 1024


class _Refused(Exception):
    def __init__(self, response: JsonResponse) -> None:
        self.response = response


def _user_id(request: HttpRequest, body: dict[str, Any]) -> str:
    user_id = body.get("userId", request.GET.get("userId", ""))
    if not isinstance(user_id, str) or not user_id.strip():
        raise _Refused(_error(400, _("Give the person's userId."), field="userId"))
    if len(user_id) > MAX_USER_ID or "\x00" in user_id:
        raise _Refused(
            _error(
                400,
                _("A userId has at most %(n)d characters and no NUL.") % {"n": MAX_USER_ID},
                field="userId",
            )
        )
    return user_id


def _authenticated(request: HttpRequest, body: dict[str, Any]) -> None:
    if _source(request, body) is None:
        raise _Refused(_error(401, _("Unknown or missing write key: send it as the HTTP Basic user name.")))


def _body(request: HttpRequest) -> dict[str, Any]:
    # The person may be named in a JSON body ({"userId": ...}) or in the query string.
    if request.content_type != "application/json" or not request.body:
        return {}
    if len(request.body) > MAX_BODY:
        raise _Refused(_error(413, _("The body is larger than %(kb)d KB.") % {"kb": MAX_BODY // 1024}))
    try:
        body = orjson.loads(request.body)
    except orjson.JSONDecodeError as error:
        raise _Refused(_error(400, _("The request body is not valid JSON."), message=str(error))) from None
    if not isinstance(body, dict):
        raise _Refused(_error(400, _("The request body must be a JSON object.")))
    return body


def contact_for(user_id: str) -> Contact | None:
    """The contact a product user id names: by the contact's external ID, else their product user's match."""
    contact = Contact.objects.filter(external_id=user_id).first()
    if contact is not None:
        return contact
    product_user = ProductUser.objects.filter(user_id=user_id).select_related("contact").first()
    return product_user.contact if product_user is not None else None


def available(contact: Contact) -> list[OutboxRow]:
    """The contact's in-app messages to show: delivered, not clicked, newest first."""
    return list(
        OutboxRow.objects.filter(
            contact=contact, kind=OutboxKind.IN_APP, status=OutboxStatus.SENT, clicked_at__isnull=True
        )
        .select_related("enrollment__version", "account", "contact")
        .order_by("-sent_at", "-pk")[:MAX_MESSAGES]
    )


def message_json(row: OutboxRow) -> dict[str, Any] | None:
    """What the product shows for one row (None when its message cannot be rendered)."""
    from touchpoint.journeys.rendering import render

    if survey_key(row.payload):
        return _survey_json(row)
    enrollment = row.enrollment
    definition = definition_of(enrollment.version)
    key = str(row.payload.get("message", ""))
    try:
        rendered = render(
            definition,
            key,
            language=row.language or None,
            account=row.account,
            contact=row.contact,
            entry_data=enrollment.entry_data,
        )
    except Exception:
        logger.exception("In-app message %s could not be rendered", row.pk)
        return None
    texts: dict[str, MessageText] = {
        str(lang): text for lang, text in definition.messages.get(key, {}).items()
    }
    text = texts.get(rendered.language) or texts.get("en")
    cta = {"label": text.cta_label, "url": text.cta_url} if text and text.cta_url else None
    return {
        "id": row.pk,
        "title": rendered.subject,
        "body": rendered.text.strip(),
        "html": rendered.html,
        "language": rendered.language,
        "cta": cta,
        "sentAt": row.sent_at.isoformat() if row.sent_at else None,
        "seen": row.opened_at is not None,
    }


def _survey_json(row: OutboxRow) -> dict[str, Any] | None:
    """A survey step's in-app message: its question and the answer link (journeys/survey_steps.py)."""
    provider = survey_provider()
    if provider is None or row.contact is None:
        return None
    try:
        message = provider.message(row=row, account=row.account, contact=row.contact, now=timezone.now())
    except SurveySkipped:
        return None
    return {
        "id": row.pk,
        "title": message.subject,
        "body": message.text.strip(),
        "html": message.html,
        "language": message.language,
        "cta": {"label": message.cta_label, "url": message.url},
        "sentAt": row.sent_at.isoformat() if row.sent_at else None,
        "seen": row.opened_at is not None,
        "survey": survey_key(row.payload),
    }


@never_cache
@require_GET
def messages(request: HttpRequest) -> JsonResponse:
    try:
        _authenticated(request, {})
        user_id = _user_id(request, {})
    except _Refused as refused:
        return refused.response
    contact = contact_for(user_id)
    rows = available(contact) if contact is not None else []
    items = [item for item in (message_json(row) for row in rows) if item is not None]
    return JsonResponse({"success": True, "messages": items})


def _report(request: HttpRequest, message_id: int, *, clicked: bool) -> JsonResponse:
    try:
        try:
            body = _body(request)
        except _Refused:
            _authenticated(request, {})  # a stranger hears 401 before anything about their body
            raise
        _authenticated(request, body)
        user_id = _user_id(request, body)
    except _Refused as refused:
        return refused.response
    contact = contact_for(user_id)
    row = None
    if contact is not None and message_id <= BIGINT_MAX:
        row = OutboxRow.objects.filter(
            pk=message_id, contact=contact, kind=OutboxKind.IN_APP, status=OutboxStatus.SENT
        ).first()
    if row is None:
        return _error(404, _("No such message for this user."))
    if clicked:
        tracking.record_click(row.pk)
    else:
        tracking.record_open(row.pk)
    row.refresh_from_db(fields=["opened_at", "clicked_at"])
    return JsonResponse(
        {
            "success": True,
            "id": row.pk,
            "seenAt": row.opened_at.isoformat() if row.opened_at else None,
            "clickedAt": row.clicked_at.isoformat() if row.clicked_at else None,
        }
    )


@csrf_exempt
@require_POST
def seen(request: HttpRequest, message_id: int) -> JsonResponse:
    return _report(request, message_id, clicked=False)


@csrf_exempt
@require_POST
def clicked(request: HttpRequest, message_id: int) -> JsonResponse:
    return _report(request, message_id, clicked=True)
