from django.apps import AppConfig


class HomeConfig(AppConfig):
    name = "touchpoint.home"
    label = "home"
    verbose_name = "Home"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from touchpoint.web.navigation import nav

        # First in the menu, so "/" and the login land here (web.views.home opens the first entry).
        nav.add(key="home", label=_("My day"), url_name="my-day", order=0)
