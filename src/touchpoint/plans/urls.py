from django.urls import path

from touchpoint.plans import views

urlpatterns = [
    path("accounts/<int:account_id>/success-plan/", views.account_success_plan, name="account-success-plan"),
    path(
        "accounts/<int:account_id>/success-plan/panel/", views.account_plan_panel, name="account-plan-panel"
    ),
    path("shared/plans/<str:token>/", views.shared_plan, name="shared-plan"),
    path("shared/plans/<str:token>/pdf", views.shared_plan_pdf, name="shared-plan-pdf"),
]
