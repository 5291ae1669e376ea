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
