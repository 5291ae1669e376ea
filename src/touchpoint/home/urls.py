from django.urls import path

from touchpoint.home import views

urlpatterns = [
    path("my-day/", views.my_day, name="my-day"),
]
