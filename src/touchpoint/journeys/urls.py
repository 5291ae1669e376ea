"""Journeys' pages. The public ones (the unsubscribe link) live in urls_public.py."""

from django.urls import path

from touchpoint.journeys import inapp, tracking
from touchpoint.journeys.urls_public import urlpatterns as public_urlpatterns

# At the site root beside the tracking API (/v1/track): the product asks for a person's in-app
# messages with a source's write key; emails carry the open pixel and tracked links.
urlpatterns = [
    *public_urlpatterns,
    path("v1/messages", inapp.messages, name="journey-messages"),
    path("v1/messages/<int:message_id>/seen", inapp.seen, name="journey-message-seen"),
    path("v1/messages/<int:message_id>/clicked", inapp.clicked, name="journey-message-clicked"),
    path("t/o/<str:token>.gif", tracking.open_pixel, name="journey-open"),
    path("t/c/<str:token>", tracking.click, name="journey-click"),
]
