from django.urls import path

from touchpoint.privacy import views

URL_PREFIX = "privacy/"

urlpatterns = [
    path("", views.privacy_page, name="privacy"),
    path("export", views.privacy_export, name="privacy-export"),
    path("erase", views.privacy_erase, name="privacy-erase"),
]
