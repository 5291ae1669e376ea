from django.urls import path

from touchpoint.success import views

urlpatterns = [
    path("accounts/<int:account_id>/placement/", views.account_placement, name="account-placement"),
]
