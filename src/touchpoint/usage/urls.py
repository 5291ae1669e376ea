from django.urls import path

from touchpoint.usage import views

# Segment's HTTP Tracking API paths, at the site root so clients only change the host.
urlpatterns = [
    path("v1/batch", views.batch, name="segment-batch"),
    path("v1/import", views.batch, name="segment-import"),
    path("v1/track", views.track, name="segment-track"),
    path("v1/identify", views.identify, name="segment-identify"),
    path("v1/group", views.group, name="segment-group"),
    path("v1/page", views.page, name="segment-page"),
    path("v1/screen", views.screen, name="segment-screen"),
    path("v1/alias", views.alias, name="segment-alias"),
]
