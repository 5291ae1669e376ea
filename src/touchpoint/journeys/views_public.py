"""Pages for people who are not Touchpoint users: the unsubscribe link of journey emails.

No login: the signed token in the URL is the proof (journeys/consent.py). GET asks for a
confirmation (a link scanner following the URL must not unsubscribe anyone); POST unsubscribes,
and so does a mail client's one-click POST (RFC 8058: body `List-Unsubscribe=One-Click`), which
carries no CSRF token, hence csrf_exempt. The page speaks the person's language.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from touchpoint.journeys import consent
from touchpoint.journeys.rendering import language_for


@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    contact = consent.contact_for_token(token)
    if contact is None:
        raise Http404("unknown unsubscribe token")
    from django.conf import settings

    language = language_for(
        contact=contact, account=contact.account, available=[code for code, _name in settings.LANGUAGES]
    )
    done = False
    if request.method == "POST":
        one_click = request.POST.get("List-Unsubscribe") == "One-Click"
        consent.unsubscribe(
            contact=contact, source=consent.SOURCE_ONE_CLICK if one_click else consent.SOURCE_LINK
        )
        done = True
    with translation.override(language):
        response = render(
            request,
            "journeys/public/unsubscribe.html",
            {
                "contact_name": contact.name,
                "account_name": contact.account.name,
                "done": done,
                "already": not done and consent.is_unsubscribed(contact),
                "language": language,
            },
        )
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"  # the token must not leak to another site
    return response
