"""Open and click tracking of journey emails: a pixel and a redirect, public, off by default.

When an admin turns `DeliverySettings.track_opens_and_clicks` on, the sender (journeys/delivery)
adds `pixel_url(row)` to each email and rewrites its links through `click_url(row, url)`:

- `GET /t/o/<token>.gif`: a 1×1 transparent GIF; the first fetch stamps the outbox row's `opened_at`.
- `GET /t/c/<token>?u=<url>`: stamps `clicked_at` (and `opened_at`, if the pixel was blocked) and
  redirects to the URL.

Tokens are signed (django.core.signing, SECRET_KEY, a salt of their own, no timestamp: the same row and
URL always give the same token, and a link never expires): a token names one outbox
row and, for a click, the SHA-256 of the one URL it may send to, so the redirect can never be
pointed elsewhere (no open redirect) and rows cannot be guessed. A bad token, a URL that does not
match, or tracking turned off answer 404. Only the first open and the first click write (a
conditional UPDATE on the empty column): a reloaded pixel costs one UPDATE that changes nothing.
"""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from touchpoint.journeys.models import DeliverySettings, OutboxRow

SALT_OPEN = "touchpoint.journeys.tracking.open"
SALT_CLICK = "touchpoint.journeys.tracking.click"
MAX_URL = 2000
# The smallest transparent GIF (43 bytes).
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


def _url_hash(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:24]


def pixel_url(row: OutboxRow) -> str:
    """The absolute URL of the row's open pixel."""
    token = signing.Signer(salt=SALT_OPEN).sign_object(row.pk)
    return settings.TOUCHPOINT_BASE_URL + reverse("journey-open", kwargs={"token": token})


def click_url(row: OutboxRow, url: str) -> str:
    """The absolute URL that records a click on `url` in the row's email and sends the reader there."""
    token = signing.Signer(salt=SALT_CLICK).sign_object([row.pk, _url_hash(url)])
    path = reverse("journey-click", kwargs={"token": token})
    return f"{settings.TOUCHPOINT_BASE_URL}{path}?{urlencode({'u': url})}"


def tracking_on() -> bool:
    # Read without DeliverySettings.load(), which would insert the row: a GET never writes settings.
    return bool(
        DeliverySettings.objects.filter(pk=1).values_list("track_opens_and_clicks", flat=True).first()
    )


def record_open(row_id: int) -> bool:
    """Stamp the first open of a row; True when this call did (later opens change nothing)."""
    return bool(OutboxRow.objects.filter(pk=row_id, opened_at__isnull=True).update(opened_at=timezone.now()))


def record_click(row_id: int) -> bool:
    """Stamp the first click (and the open, if its pixel never loaded); True when this call did."""
    now = timezone.now()
    OutboxRow.objects.filter(pk=row_id, opened_at__isnull=True).update(opened_at=now)
    return bool(OutboxRow.objects.filter(pk=row_id, clicked_at__isnull=True).update(clicked_at=now))


def _loaded(token: str, salt: str) -> object:
    if len(token) > 300 or not tracking_on():
        raise Http404
    try:
        if token.count(":") == 2:
            # Emails sent before tokens lost their timestamp carry the older "payload:time:signature".
            return signing.loads(token, salt=salt)
        return signing.Signer(salt=salt).unsign_object(token)
    except signing.BadSignature:
        raise Http404 from None


@never_cache
@require_GET
def open_pixel(request: HttpRequest, token: str) -> HttpResponse:
    row_id = _loaded(token, SALT_OPEN)
    if not isinstance(row_id, int):
        raise Http404
    record_open(row_id)
    return HttpResponse(PIXEL, content_type="image/gif")


@never_cache
@require_GET
def click(request: HttpRequest, token: str) -> HttpResponse:
    found = _loaded(token, SALT_CLICK)
    url = request.GET.get("u", "")
    if (
        not isinstance(found, list)
        or len(found) != 2
        or not isinstance(found[0], int)
        or not url.startswith(("https://", "http://"))
        or len(url) > MAX_URL
        or found[1] != _url_hash(url)
    ):
        raise Http404
    record_click(found[0])
    # The signature covers this exact URL, which the journey's own message put in the email.
    return HttpResponseRedirect(url)
