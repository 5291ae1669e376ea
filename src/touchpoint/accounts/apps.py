from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "touchpoint.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from touchpoint.accounts import (
            domain_events,  # noqa: F401  (registers the accounts event kinds)
            rules,  # noqa: F401  (declares the accounts permissions)
        )
        from touchpoint.accounts.portfolio import register_core
        from touchpoint.web.navigation import nav

        register_core()
        nav.add(key="portfolio", label=_("Portfolio"), url_name="portfolio", order=10)
