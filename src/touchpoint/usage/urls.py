from django.urls import path

from touchpoint.usage import tracking, views

# Segment's HTTP Tracking API paths, at the site root so clients only change the host.
urlpatterns = [
    path("v1/batch", tracking.batch, name="segment-batch"),
    path("v1/import", tracking.batch, name="segment-import"),
    path("v1/track", tracking.track, name="segment-track"),
    path("v1/identify", tracking.identify, name="segment-identify"),
    path("v1/group", tracking.group, name="segment-group"),
    path("v1/page", tracking.page, name="segment-page"),
    path("v1/screen", tracking.screen, name="segment-screen"),
    path("v1/alias", tracking.alias, name="segment-alias"),
]

urlpatterns += [
    path("accounts/<int:account_id>/usage/", views.account_usage_panel, name="account-usage"),
    path("sources/", views.sources, name="sources"),
    path("key-features/", views.key_features, name="key-features"),
    path("sources/<int:source_id>/", views.source_detail, name="source-detail"),
]
