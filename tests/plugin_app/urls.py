from django.urls import path

from tests.plugin_app import views

urlpatterns = [
    path("plugin/", views.page, name="plugin-page"),
    path("accounts/<int:account_id>/plugin/", views.panel, name="plugin-panel"),
]
