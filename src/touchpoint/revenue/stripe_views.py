"""Stripe in: the signed webhook, and the page that shows what it received (billing is revenue's).

The received events are kept in integrations' StripeEvent log; what they mean for subscriptions and
MRR is decided here, through revenue's services (revenue/stripe.py).
"""

from __future__ import annotations

import orjson
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from touchpoint.integrations.models import StripeEvent
from touchpoint.revenue import stripe
from touchpoint.users.permissions import permission_required


def _error(status: int, detail: str, field: str = "", message: str = "") -> JsonResponse:
    return JsonResponse(
        {"detail": detail, "errors": [{"field": field, "message": message or detail}]}, status=status
    )


@csrf_exempt  # Stripe signs the request instead; there is no session
@require_POST
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    payload = request.body
    try:
        stripe.verify(payload, request.headers.get("Stripe-Signature"), endpoint_secrets=stripe.secrets())
    except stripe.SignatureError as error:
        return _error(400, str(error), "Stripe-Signature")
    try:
        event = orjson.loads(payload)
    except orjson.JSONDecodeError as error:
        return _error(400, _("The request body is not valid JSON."), message=str(error))
    if not isinstance(event, dict):
        return _error(400, _("Expected a Stripe event object."))
    try:
        recorded, new = stripe.handle(event)
    except ValidationError as error:
        # Nothing was written; Stripe retries, so a fixed configuration (an account id, say) lets it through.
        errors = [
            {"field": field, "message": " ".join(messages)}
            for field, messages in getattr(error, "message_dict", {"": error.messages}).items()
        ]
        return JsonResponse({"detail": _("The event could not be applied."), "errors": errors}, status=422)
    return JsonResponse(
        {"received": True, "id": recorded.event_id, "outcome": recorded.outcome, "duplicate": not new}
    )


@permission_required("integrations.view_stripeevent")
@require_GET
def stripe_page(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "revenue/stripe.html",
        {
            "webhook_url": request.build_absolute_uri(reverse("stripe-webhook")),
            "secrets": len(stripe.secrets()),
            "events": StripeEvent.objects.all()[:50],
            "handled": sorted(stripe.HANDLED),
            "currency": settings.TOUCHPOINT_CURRENCY,
        },
    )
