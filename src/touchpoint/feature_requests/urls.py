from django.urls import path

from touchpoint.feature_requests import views

urlpatterns = [
    path("feature-requests/", views.requests_page, name="feature-requests"),
    path("feature-requests/export.csv", views.export_csv, name="feature-requests-csv"),
    path("feature-requests/suggest/", views.suggest, name="feature-request-suggest"),
    path("feature-requests/<int:request_id>/", views.request_page, name="feature-request"),
    path("accounts/<int:account_id>/feature-requests/", views.account_panel, name="account-feature-requests"),
]
