from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "touchpoint.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from touchpoint.accounts import rules  # noqa: F401  (declares the accounts permissions)
