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
            readiness_plugins,
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
            group="revenue",
        )
        nav.add(
            key="revenue-dashboard",
            label=_("Revenue"),
            url_name="revenue-dashboard",
            permission="revenue.view_mrrmovement",
            order=50,
            group="revenue",
        )
        nav.add(
            key="integrations-stripe",
            label=_("Stripe"),
            url_name="integrations-stripe",
            permission="integrations.view_stripeevent",
            order=80,
            group="setup",
        )
        account_panels.add(
            key="subscriptions", title=_("Subscriptions"), url_name="account-subscriptions", order=30
        )
        imports.register_kind()  # the subscriptions CSV import
        health_measures.register()  # live subscriptions, billing and renewal measures, churn outcomes
        alerts.register()  # a churn alerts the account's people
        portfolio_columns.register()  # ARR and next renewal: portfolio columns, CSV columns, header facts
        self._renewal_process()
        readiness_plugins.register()  # time to close and to revenue, lifetime value, GRR, NRR on readiness maps

    def _renewal_process(self) -> None:
        """Renewal opportunities: kept in step with every subscription save, on the account page and home."""
        from django.db.models.signals import post_save

        from touchpoint.accounts.panels import account_panels
        from touchpoint.revenue import home_sections, renewal_process
        from touchpoint.revenue.models import Subscription

        post_save.connect(
            renewal_process.on_subscription_saved,
            sender=Subscription,
            dispatch_uid="revenue-renewal-opportunity",
        )
        account_panels.add(key="renewal", title=_("Renewal"), url_name="account-renewal", order=31)
        home_sections.register()
