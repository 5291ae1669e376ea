"""Journeys' pages. The public ones (the unsubscribe link) live in urls_public.py."""

from django.urls import path

from touchpoint.journeys import inapp, tracking, views
from touchpoint.journeys.urls_public import urlpatterns as public_urlpatterns

# "-" is no journey's key (keys start with a letter or digit): the pages about journeys in general
# live under journeys/-/, so no key can hide them. At the site root beside the tracking API
# (/v1/track): the product asks for a person's in-app messages with a source's write key; emails
# carry the open pixel and tracked links.
urlpatterns = [
    path("journeys/", views.journeys_page, name="journeys"),
    path("journeys/-/new/", views.new_journey, name="journey-new"),
    path("journeys/-/delivery/", views.delivery_settings, name="journeys-delivery"),
    path("journeys/-/webhooks/", views.webhooks, name="journeys-webhooks"),
    path("journeys/<slug:key>/", views.builder, name="journey"),
    path("journeys/<slug:key>/steps/", views.steps, name="journey-steps"),
    path("journeys/<slug:key>/steps/<slug:step_id>/", views.step, name="journey-step"),
    path("journeys/<slug:key>/yaml/", views.source, name="journey-yaml"),
    path("journeys/<slug:key>/preview/<str:message>/<slug:language>/", views.preview, name="journey-preview"),
    path("journeys/<slug:key>/simulate/", views.simulate, name="journey-simulate"),
    path("journeys/<slug:key>/simulations/<int:run_id>/", views.simulation_run, name="journey-simulation"),
    path("journeys/<slug:key>/status/", views.change_status, name="journey-status"),
    path("journeys/<slug:key>/versions/", views.versions, name="journey-versions"),
    path("journeys/<slug:key>/stats/", views.stats_page, name="journey-stats"),
    path("accounts/<int:account_id>/journeys/", views.account_journeys, name="account-journeys"),
    *public_urlpatterns,
    path("v1/messages", inapp.messages, name="journey-messages"),
    path("v1/messages/<int:message_id>/seen", inapp.seen, name="journey-message-seen"),
    path("v1/messages/<int:message_id>/clicked", inapp.clicked, name="journey-message-clicked"),
    path("t/o/<str:token>.gif", tracking.open_pixel, name="journey-open"),
    path("t/c/<str:token>", tracking.click, name="journey-click"),
]
