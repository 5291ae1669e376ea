"""What the success-gap funnel (nav entry) adds to the shared screens and registries."""

from __future__ import annotations


def register() -> None:
    """Called from SuccessConfig.ready()."""
