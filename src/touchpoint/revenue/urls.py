from django.urls import path

from touchpoint.revenue import views

urlpatterns = [
    path("revenue/", views.dashboard, name="revenue-dashboard"),
    path("revenue/export/<slug:name>.csv", views.dashboard_export, name="revenue-export"),
    path("accounts/<int:account_id>/subscriptions/", views.account_subscriptions, name="account-subscriptions"),
]
