"""What feature requests add to the shared registries (from FeatureRequestsConfig.ready()): the
"Feature requests" menu entry, the account page's panel and the "feature requests" CSV import kind."""

from __future__ import annotations


def register() -> None:
    from django.utils.translation import gettext_lazy as _

    from touchpoint.accounts.panels import account_panels
    from touchpoint.feature_requests import imports
    from touchpoint.web.navigation import nav

    imports.register_kind()  # the "feature-requests" CSV import

    nav.add(
        key="feature-requests",
        label=_("Feature requests"),
        url_name="feature-requests",
        permission="feature_requests.view_featurerequest",
        order=57,
        prefix="/feature-requests/",
        group="voice",
    )
    account_panels.add(
        key="feature-requests",
        title=_("Feature requests"),
        url_name="account-feature-requests",
        order=45,
        permission="feature_requests.view_featurerequest",
    )
