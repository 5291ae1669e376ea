from django.urls import path

from touchpoint.accounts import views

# Mounted at /accounts/ by the root URLconf (touchpoint/plugins.py).
URL_PREFIX = "accounts/"

urlpatterns = [
    path("", views.portfolio, name="portfolio"),
    path("export.csv", views.portfolio_export, name="portfolio-export"),
    path("new/", views.account_create, name="account-create"),
    path("views/", views.saved_view_create, name="saved-view-create"),
    path("views/<int:view_id>/", views.saved_view_open, name="saved-view-open"),
    path("views/<int:view_id>/delete/", views.saved_view_delete, name="saved-view-delete"),
    path("<int:account_id>/", views.account_detail, name="account-detail"),
    path("<int:account_id>/edit/", views.account_edit, name="account-edit"),
    path("<int:account_id>/timeline/", views.account_timeline, name="account-timeline"),
    path("<int:account_id>/team/", views.account_team, name="account-team"),
    path("<int:account_id>/contacts/new/", views.contact_create, name="contact-create"),
    path("<int:account_id>/engagements/", views.log_engagement_view, name="account-log-engagement"),
]
