from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    """Data flowing in from elsewhere: Stripe webhooks and CSV imports (later: outbound webhooks)."""

    name = "touchpoint.integrations"
    label = "integrations"
    verbose_name = _("Integrations")

    def ready(self) -> None:
        from touchpoint.integrations import rules  # noqa: F401  (declares the integrations permissions)
        from touchpoint.web.navigation import nav

        nav.add(
            key="imports",
            label=_("Import"),
            url_name="imports",
            permission="integrations.add_importjob",
            order=70,
            group="setup",
        )
