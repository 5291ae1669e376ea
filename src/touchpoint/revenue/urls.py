from django.urls import path

from touchpoint.revenue import renewal_views, stripe_views, views

urlpatterns = [
    # Stripe: the webhook keeps the path Stripe is configured with, the page its place under Integrations.
    path("webhooks/stripe", stripe_views.stripe_webhook, name="stripe-webhook"),
    path("integrations/stripe/", stripe_views.stripe_page, name="integrations-stripe"),
    path("revenue/", views.dashboard, name="revenue-dashboard"),
    path("revenue/export/<slug:name>.csv", views.dashboard_export, name="revenue-export"),
    path("renewals/", views.renewals_page, name="renewals"),
    path("revenue/churn-reasons/", views.churn_reasons, name="churn-reasons"),
    path("renewals/export.csv", views.renewals_export, name="renewals-export"),
    path(
        "accounts/<int:account_id>/subscriptions/", views.account_subscriptions, name="account-subscriptions"
    ),
    path(
        "renewals/opportunities/<int:opportunity_id>/",
        renewal_views.opportunity_page,
        name="renewal-opportunity",
    ),
    path("accounts/<int:account_id>/renewal/", renewal_views.account_renewal, name="account-renewal"),
]
