from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlaybooksConfig(AppConfig):
    name = "touchpoint.playbooks"
    label = "playbooks"
    verbose_name = _("Playbooks")

    def ready(self) -> None:
        from touchpoint.accounts.panels import account_panels
        from touchpoint.playbooks import (  # noqa: F401  (each registers on import)
            domain_events,
            readiness_plugins,
            rules,
            timeline,
        )
        from touchpoint.playbooks.tasks import scan_renewals_task
        from touchpoint.playbooks.triggers import follow_events
        from touchpoint.scheduler.registry import register_poller, register_schedule
        from touchpoint.web.navigation import nav

        nav.add(
            key="playbooks",
            label=_("Playbooks"),
            url_name="playbooks",
            permission="playbooks.view_playbook",
            order=35,
            group="engage",
        )
        account_panels.add(
            key="playbooks",
            title=_("Playbooks"),
            url_name="account-playbooks",
            order=25,
            permission="playbooks.view_playbookrun",
        )
        register_schedule(
            "playbooks.renewal_scan",
            cron="20 6 * * *",
            task=scan_renewals_task,
            description="Start the renewal playbook for renewals entering their window",
        )
        # Health turned red, new accounts, champions leaving, and runs whose tasks are all closed.
        register_poller("playbooks.rules", every=30, run=follow_events)
        readiness_plugins.register()  # playbooks as how people serve a readiness touchpoint

        from touchpoint.playbooks import privacy

        privacy.register()  # its part of the privacy export and erasure (docs/privacy.md)
