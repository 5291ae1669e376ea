from django.urls import path

from touchpoint.success import views

urlpatterns = [
    path("accounts/<int:account_id>/placement/", views.account_placement, name="account-placement"),
]

# Frameworks: list, detail, editor (framework part).

# Milestones and time to value (milestone part).

# The success-gap funnel (funnel part).
