from django.urls import path

from touchpoint.support import views

urlpatterns = [
    path("support/", views.support_page, name="support"),
    path("support/settings/", views.settings_page, name="support-settings"),
    path("support/tickets/<int:ticket_id>/", views.ticket_page, name="support-ticket"),
    path("support/webhooks/<slug:key>/", views.webhook, name="support-webhook"),
    path("accounts/<int:account_id>/support/", views.account_support, name="account-support"),
]
