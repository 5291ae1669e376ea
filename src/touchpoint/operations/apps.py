from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OperationsConfig(AppConfig):
    """Running Touchpoint: backups and restores, the health endpoint, the worker's heartbeat."""

    name = "touchpoint.operations"
    label = "operations"
    verbose_name = _("Operations")

    def ready(self) -> None:
        from touchpoint.operations.heartbeat import HEARTBEAT_SECONDS, beat
        from touchpoint.scheduler.registry import register_poller

        # Every worker process beats from its upkeep loop; /healthz reads the latest beat.
        register_poller("operations.heartbeat", every=HEARTBEAT_SECONDS, run=beat)

        # The users app's admin pages in the menu: the users app sits below the web layer (web's
        # registry asks it for permissions), so its menu entries are registered from here.
        from django.utils.translation import pgettext_lazy

        from touchpoint.operations.metrics import observe_ingest
        from touchpoint.usage.signals import batch_ingested
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

        nav.add(
            key="audit",
            label=_("Audit log"),
            url_name="audit",
            permission="users.view_auditlogentry",
            order=96,
            group="setup",
        )

        # Ingestion counters: usage sends the signal, so usage never imports operations.
        batch_ingested.connect(observe_ingest, weak=False, dispatch_uid="touchpoint.operations.ingest")
