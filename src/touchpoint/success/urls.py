from django.urls import path

from touchpoint.success import views, views_milestones

urlpatterns = [
    path("accounts/<int:account_id>/placement/", views.account_placement, name="account-placement"),
]

# Frameworks: list, detail, editor (framework part).

# Milestones and time to value (milestone part).
urlpatterns += [
    path(
        "accounts/<int:account_id>/milestones/",
        views_milestones.account_milestones_panel,
        name="account-milestones",
    ),
    path("success/time-to-value/", views_milestones.time_to_value_page, name="time-to-value"),
]

# The success-gap funnel (funnel part).
