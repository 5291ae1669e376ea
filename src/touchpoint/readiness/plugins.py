"""What readiness adds to the shared registries (from ReadinessConfig.ready()): the "Readiness" menu
entry and the daily pass that turns touchpoints past their due date into gaps."""

from __future__ import annotations

from django_tasks import task


@task()
def refresh_overdue_task() -> int:
    from touchpoint.readiness.services import refresh_overdue

    return refresh_overdue()


def register() -> None:
    from django.utils.translation import gettext_lazy as _

    from touchpoint.scheduler.registry import register_schedule
    from touchpoint.web.navigation import nav

    nav.add(
        key="readiness",
        label=_("Readiness"),
        url_name="readiness-maps",
        permission="readiness.view_readinessmap",
        order=58,
        prefix="/readiness/",
    )

    register_schedule(
        "readiness.overdue",
        cron="20 0 * * *",
        task=refresh_overdue_task,
        description="Touchpoints past their due date and not ready become gaps",
    )
    from touchpoint.readiness import uptime_kpi

    uptime_kpi.register()  # the product's uptime: readiness's own KPI
