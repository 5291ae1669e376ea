from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    """Data flowing in from elsewhere: Stripe webhooks and CSV imports (later: outbound webhooks)."""

    name = "touchpoint.integrations"
    label = "integrations"
    verbose_name = _("Integrations")

    def ready(self) -> None:
        from touchpoint.integrations import rules  # noqa: F401  (declares the integrations permissions)
