from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class UsersConfig(AppConfig):
    name = "touchpoint.users"
    label = "users"
    verbose_name = "Users"

    def ready(self) -> None:
        from touchpoint.users import audit, rules  # noqa: F401  (rules declares the users permissions)
        from touchpoint.users.services import sync_role_groups
        from touchpoint.web.navigation import nav

        nav.add(
            key="people",
            label=pgettext_lazy("users of Touchpoint", "People"),
            url_name="people",
            permission="users.view_user",
            order=95,
            prefix="/people/",
            group="setup",
        )

        def _sync(sender, using="default", **kwargs) -> None:
            # Run once, after the last app migrated, when every permission row exists.
            if sender.label == "users":
                sync_role_groups(using=using)

        post_migrate.connect(_sync, weak=False, dispatch_uid="touchpoint.users.sync_role_groups")
        # Sign-ins, failed sign-ins and the Django admin's changes go to the audit log.
        audit.connect()
        nav.add(
            key="audit",
            label=_("Audit log"),
            url_name="audit",
            permission="users.view_auditlogentry",
            order=96,
            group="setup",
        )
