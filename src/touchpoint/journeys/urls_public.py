"""Public routes of journeys (no login): the unsubscribe link of journey emails."""

from django.urls import path

from touchpoint.journeys import views_public

urlpatterns = [
    path("u/<str:token>/", views_public.unsubscribe, name="journeys-unsubscribe"),
]
