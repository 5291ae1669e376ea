"""Journeys' pages. The public ones (the unsubscribe link) live in urls_public.py."""

from touchpoint.journeys.urls_public import urlpatterns as public_urlpatterns

urlpatterns = [*public_urlpatterns]
