from django.urls import path

from touchpoint.success import views, views_placement

urlpatterns = [
    path("accounts/<int:account_id>/placement/", views.account_placement, name="account-placement"),
]

# Frameworks: list, detail, editor (framework part).

# Milestones and time to value (milestone part).

# The success-gap funnel (funnel part).

# Placement: the account panel "Success phase" with the override (placement part).
urlpatterns += [
    path(
        "accounts/<int:account_id>/success-phase/",
        views_placement.account_success_phase,
        name="account-success-phase",
    ),
]
