from django.urls import path

from touchpoint.users import audit_views, views

urlpatterns = [
    path("my-settings/", views.my_settings, name="my-settings"),
    path("audit/", audit_views.audit_page, name="audit"),
    path("audit/export.csv", audit_views.audit_export, name="audit-csv"),
]
