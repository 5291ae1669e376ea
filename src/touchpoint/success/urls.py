from django.urls import path

from touchpoint.success import views

urlpatterns = [
    path("accounts/<int:account_id>/placement/", views.account_placement, name="account-placement"),
]

# Frameworks: list, detail, editor (framework part).

# Milestones and time to value (milestone part).

# The success-gap funnel (funnel part).
from touchpoint.success import views_funnel  # noqa: E402

urlpatterns += [
    path("success/funnel/", views_funnel.funnel_page, name="success-funnel"),
    path(
        "success/funnel/stalled/<int:milestone_id>/",
        views_funnel.funnel_stalled,
        name="success-funnel-stalled",
    ),
]
