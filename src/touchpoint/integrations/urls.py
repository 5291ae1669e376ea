from django.urls import path

from touchpoint.integrations import views

urlpatterns = [
    path("webhooks/stripe", views.stripe_webhook, name="stripe-webhook"),
    path("integrations/stripe/", views.stripe_page, name="integrations-stripe"),
]
