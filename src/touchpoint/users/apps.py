from django.apps import AppConfig
from django.db.models.signals import post_migrate, pre_save


class UsersConfig(AppConfig):
    name = "touchpoint.users"
    label = "users"
    verbose_name = "Users"

    def ready(self) -> None:
        from touchpoint.users import audit, rules  # noqa: F401  (rules declares the users permissions)
        from touchpoint.users.services import sync_role_groups

        def _sync(sender, using="default", **kwargs) -> None:
            # Run once, after the last app migrated, when every permission row exists.
            if sender.label == "users":
                sync_role_groups(using=using)

        post_migrate.connect(_sync, weak=False, dispatch_uid="touchpoint.users.sync_role_groups")
        # Deactivated anywhere (Django's admin included): signed out everywhere at once.
        from touchpoint.users.models import User
        from touchpoint.users.people import end_sessions_of_deactivated

        pre_save.connect(
            end_sessions_of_deactivated, sender=User, dispatch_uid="touchpoint.users.deactivated"
        )
        # Sign-ins, failed sign-ins and the Django admin's changes go to the audit log.
        audit.connect()
        # The demo company backdates the audit entries its steps write: it builds with the log's
        # triggers lifted (for its one transaction).
        from touchpoint.demo.builders import register_build_wrapper

        register_build_wrapper(audit.triggers_suspended)
