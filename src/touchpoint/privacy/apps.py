from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    """Personal data: export and erase everything held about a person (docs/privacy.md)."""

    name = "touchpoint.privacy"
    label = "privacy"
    verbose_name = _("Privacy")

    def ready(self) -> None:
        from touchpoint.privacy import holders, rules  # noqa: F401  (rules declares the permissions)

        holders.register()

        from touchpoint.web.navigation import nav

        nav.add(
            key="privacy",
            label=_("Privacy"),
            url_name="privacy",
            permission="privacy.view_erasure",
            order=97,
            prefix="/privacy/",
            group="setup",
        )
