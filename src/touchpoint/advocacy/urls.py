from django.urls import path

from touchpoint.advocacy import views

urlpatterns = [
    path("advocacy/", views.advocates_page, name="advocacy"),
    path("advocacy/pool/", views.pool_page, name="advocacy-pool"),
    path("advocacy/asks/", views.asks_page, name="advocacy-asks"),
    path("advocacy/settings/", views.settings_page, name="advocacy-settings"),
    path("advocacy/ask/", views.ask_page, name="advocacy-ask"),
    path("advocacy/contacts/<int:contact_id>/", views.contact_page, name="advocacy-contact"),
    path("accounts/<int:account_id>/advocacy/", views.account_panel, name="account-advocacy"),
]
