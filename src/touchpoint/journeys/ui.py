"""Where the journeys pages show up in the rest of the app: the main navigation and the account page."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


def register_pages() -> None:
    from touchpoint.accounts.panels import account_panels
    from touchpoint.web.navigation import nav

    nav.add(
        key="journeys",
        label=_("Journeys"),
        url_name="journeys",
        permission="journeys.view_journey",
        order=37,
        group="engage",
    )
    account_panels.add(
        key="journeys",
        title=_("Journeys"),
        url_name="account-journeys",
        order=27,
        permission="journeys.view_enrollment",
    )
