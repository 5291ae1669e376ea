from django.urls import path

from touchpoint.users import views

urlpatterns = [
    path("my-settings/", views.my_settings, name="my-settings"),
]
