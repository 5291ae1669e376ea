"""What advocacy adds to the shared registries (from AdvocacyConfig.ready()): the "Advocacy" menu
entry, the account page's panel, and the poller that turns NPS answers into advocacy candidates."""

from __future__ import annotations


def register() -> None:
    from django.utils.translation import gettext_lazy as _

    from touchpoint.accounts.panels import account_panels
    from touchpoint.advocacy import consumer
    from touchpoint.scheduler.registry import register_poller
    from touchpoint.web.navigation import nav

    nav.add(
        key="advocacy",
        label=_("Advocacy"),
        url_name="advocacy",
        permission="advocacy.view_advocate",
        order=62,
        prefix="/advocacy/",
        group="voice",
    )
    account_panels.add(
        key="advocacy",
        title=_("Advocacy"),
        url_name="account-advocacy",
        order=60,
        permission="advocacy.view_advocate",
    )
    # Every worker follows the survey answers (the consumer's position row is locked per batch, so
    # workers take turns and each answer is read once), as home's alerts do.
    register_poller("advocacy.candidates", every=consumer.POLL_SECONDS, run=consumer.follow_survey_answers)
