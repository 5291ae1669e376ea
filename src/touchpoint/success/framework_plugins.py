"""What framework editor and text (nav entry, pages) adds to the shared screens and registries."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


def register() -> None:
    """Called from SuccessConfig.ready(): the main navigation's one "Success" entry opens the
    frameworks; time to value and the funnel are tabs of the section (success/_section_nav.html)."""
    from touchpoint.web.navigation import nav

    nav.add(
        key="success",
        label=_("Success"),
        url_name="success-frameworks",
        permission="success.view_successframework",
        order=36,
        prefix="/success/",
    )
