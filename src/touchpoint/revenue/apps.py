from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RevenueConfig(AppConfig):
    name = "touchpoint.revenue"
    label = "revenue"
    verbose_name = _("Revenue")

    def ready(self) -> None:
        from touchpoint.accounts.panels import account_panels
        from touchpoint.revenue import (
            alerts,
            domain_events,  # noqa: F401  (registers the revenue event kinds)
            health_measures,
            imports,
            portfolio_columns,
            rules,  # noqa: F401  (declares the revenue permissions)
            timeline,  # noqa: F401  (registers the revenue timeline kinds)
        )
        from touchpoint.web.navigation import nav

        nav.add(
            key="renewals",
            label=_("Renewals"),
            url_name="renewals",
            permission="revenue.view_subscription",
            order=40,
        )
        nav.add(
            key="revenue-dashboard",
            label=_("Revenue"),
            url_name="revenue-dashboard",
            permission="revenue.view_mrrmovement",
            order=50,
        )
        nav.add(
            key="integrations-stripe",
            label=_("Stripe"),
            url_name="integrations-stripe",
            permission="integrations.view_stripeevent",
            order=80,
        )
        account_panels.add(
            key="subscriptions", title=_("Subscriptions"), url_name="account-subscriptions", order=30
        )
        imports.register_kind()  # the subscriptions CSV import
        health_measures.register()  # live subscriptions, billing and renewal measures, churn outcomes
        alerts.register()  # a churn alerts the account's people
        portfolio_columns.register()  # ARR and next renewal: portfolio columns, CSV columns, header facts
