"""What support adds to the shared registries (from SupportConfig.ready()): the menu entry, the account
panel and header fact, the timeline kinds, the breach alert, the tickets CSV import, the minute job
that records breaches as they happen, the support-load health measure and the readiness KPIs."""

from __future__ import annotations

from django_tasks import task


@task()
def check_breaches_task() -> int:
    from touchpoint.support.services import check_breaches, deliver_escalations

    recorded = check_breaches()
    deliver_escalations()
    return recorded


def register() -> None:
    from django.utils.translation import gettext_lazy as _

    from touchpoint.accounts.panels import account_header_facts, account_panels
    from touchpoint.scheduler.registry import register_schedule
    from touchpoint.support import alerts, health_measures, imports, kpis, timeline
    from touchpoint.support.selectors import annotate_open_tickets
    from touchpoint.web.navigation import nav

    nav.add(
        key="support",
        label=_("Support"),
        url_name="support",
        permission="support.view_ticket",
        order=45,
        prefix="/support/",
        group="voice",
    )
    account_panels.add(
        key="support",
        title=_("Support"),
        url_name="account-support",
        order=35,
        permission="support.view_ticket",
    )
    account_header_facts.add(
        key="open_tickets",
        label=_("Open tickets"),
        template="support/_header_fact.html",
        order=60,
        permission="support.view_ticket",
        annotate=annotate_open_tickets,
    )
    timeline.register()
    alerts.register()
    imports.register_kind()
    health_measures.register()
    kpis.register()
    register_schedule(
        "support.breaches",
        cron="* * * * *",
        task=check_breaches_task,
        description="Tickets whose SLA due moment passed without a reply or resolution get a breach",
    )
