"""What the success-gap funnel (nav entry) adds to the shared screens and registries."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


def register() -> None:
    """Called from SuccessConfig.ready()."""
    from touchpoint.web.navigation import nav

    nav.add(
        key="success-funnel",
        label=_("Success funnel"),
        url_name="success-funnel",
        permission="success.view_successframework",
        order=56,
    )
