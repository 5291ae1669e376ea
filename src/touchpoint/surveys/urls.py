"""Surveys' pages, and the public answer page (no login) at /s/<token>/."""

from django.urls import path

from touchpoint.surveys import views

urlpatterns = [
    path("surveys/", views.surveys_page, name="surveys"),
    path("surveys/-/settings/", views.settings_page, name="surveys-settings"),
    path("surveys/<slug:key>/", views.survey_page, name="survey"),
    path("accounts/<int:account_id>/surveys/", views.account_surveys, name="account-surveys"),
    path("s/<str:token>/", views.answer_page, name="survey-answer"),
]
