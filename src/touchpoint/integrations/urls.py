from django.urls import path

from touchpoint.integrations import views

urlpatterns = [
    path("imports/", views.imports, name="imports"),
    path("imports/<int:job_id>/", views.import_job, name="import-job"),
    path("imports/<int:job_id>/progress/", views.import_progress, name="import-progress"),
]
