from django.urls import path

from touchpoint.operations import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
]
