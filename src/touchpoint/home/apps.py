from django.apps import AppConfig


class HomeConfig(AppConfig):
    name = "touchpoint.home"
    label = "home"
    verbose_name = "Home"

    def ready(self) -> None:
        from django.conf import settings
        from django.utils.translation import gettext_lazy as _

        from touchpoint.home import account_sections, alerts, home_sections
        from touchpoint.home.tasks import send_daily_digests_task
        from touchpoint.scheduler.registry import register_poller, register_schedule
        from touchpoint.web.navigation import nav

        # First in the menu, so "/" and the login land here (web.views.home opens the first entry).
        nav.add(key="home", label=_("My day"), url_name="my-day", order=0)
        home_sections.register()  # the viewer's recent alerts
        account_sections.register()  # upcoming meetings and silent accounts
        account_sections.register_alerts()  # "champion left"
        # Every worker turns new domain events into alerts within seconds (the consumer's position
        # row is locked per batch, so workers take turns and each event is read once).
        register_poller("home.alerts", every=settings.ALERTS_POLL_SECONDS, run=alerts.deliver_alerts)
        register_schedule(
            "home.daily_digest",
            cron=settings.DAILY_DIGEST_CRON,
            task=send_daily_digests_task,
            description="The daily digest email: new alerts and what other apps add",
        )
