from django.urls import path

from touchpoint.home import views

urlpatterns = [
    path("my-day/", views.my_day, name="my-day"),
    path("my-day/alerts/<int:alert_id>/read/", views.mark_read, name="alert-read"),
    path("my-day/alerts/read/", views.mark_all_read, name="alerts-read-all"),
]
