"""What success plans add to the shared screens (registered from PlansConfig.ready()): the account
page's "Success plan" panel and the health measure of plan progress."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


def register() -> None:
    from touchpoint.accounts.panels import account_panels
    from touchpoint.plans import health_measures

    account_panels.add(
        key="success_plan",
        title=_("Success plan"),
        url_name="account-plan-panel",
        order=25,
        permission="plans.view_successplan",
    )
    health_measures.register()
