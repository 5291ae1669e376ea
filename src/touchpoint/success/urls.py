from django.urls import path

from touchpoint.success import views, views_frameworks, views_funnel, views_milestones, views_placement

urlpatterns = [
    path("accounts/<int:account_id>/placement/", views.account_placement, name="account-placement"),
]

# Frameworks: list, detail, editor (framework part).
urlpatterns += [
    path("success/frameworks/", views_frameworks.frameworks_page, name="success-frameworks"),
    path("success/frameworks/new/", views_frameworks.new_framework, name="success-framework-new"),
    path("success/frameworks/<int:framework_id>/", views_frameworks.framework_page, name="success-framework"),
    path(
        "success/frameworks/<int:framework_id>/edit/",
        views_frameworks.edit_framework,
        name="success-framework-edit",
    ),
]

# Placement: the account panel "Success phase" with the override (placement part).
urlpatterns += [
    path(
        "accounts/<int:account_id>/success-phase/",
        views_placement.account_success_phase,
        name="account-success-phase",
    ),
]

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
urlpatterns += [
    path("success/funnel/", views_funnel.funnel_page, name="success-funnel"),
    path(
        "success/funnel/stalled/<int:milestone_id>/",
        views_funnel.funnel_stalled,
        name="success-funnel-stalled",
    ),
]
