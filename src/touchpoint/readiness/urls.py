from django.urls import path

from touchpoint.readiness import views, views_exports

urlpatterns = [
    path("readiness/", views.maps_page, name="readiness-maps"),
    path("readiness/new/", views.new_map, name="readiness-map-new"),
    path("readiness/uptime/", views.uptime_page, name="readiness-uptime"),
    path("readiness/<int:map_id>/", views.map_page, name="readiness-map"),
    path("readiness/<int:map_id>/export.csv", views_exports.map_csv, name="readiness-map-csv"),
    path("readiness/<int:map_id>/export.pdf", views_exports.map_pdf, name="readiness-map-pdf"),
    path("readiness/<int:map_id>/export.yaml", views_exports.map_yaml, name="readiness-map-yaml"),
    path("readiness/touchpoints/<int:touchpoint_id>/", views.touchpoint_page, name="readiness-touchpoint"),
]
