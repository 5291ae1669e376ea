from django.urls import path

from touchpoint.health import views

urlpatterns = [
    path("accounts/<int:account_id>/health/", views.account_health_panel, name="account-health"),
    path("health/distribution/", views.distribution, name="health-distribution"),
    path("health/scorecards/", views.scorecards, name="health-scorecards"),
    path("health/scorecards/export.yaml", views.scorecards_export, name="health-scorecards-export"),
    path("health/scorecards/new/", views.scorecard_edit, name="health-scorecard-new"),
    path("health/scorecards/<int:scorecard_id>/", views.scorecard_edit, name="health-scorecard"),
    path("health/scorecards/<int:scorecard_id>/rescore/", views.rescore, name="health-scorecard-rescore"),
    path("health/backtest/", views.backtest_page, name="health-backtest"),
    path("health/backtest/accept/", views.accept_proposal, name="health-backtest-accept"),
    path("health/backtest/learned/", views.apply_learned, name="health-learned-apply"),
    path(
        "health/scorecards/<int:scorecard_id>/learned/withdraw/",
        views.withdraw_learned,
        name="health-learned-withdraw",
    ),
]
