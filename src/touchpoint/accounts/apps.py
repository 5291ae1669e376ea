from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "touchpoint.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from touchpoint.accounts import domain_events  # noqa: F401  (registers the accounts event kinds)
