"""What framework editor and text (nav entry, pages) adds to the shared screens and registries."""

from __future__ import annotations


def register() -> None:
    """Called from SuccessConfig.ready()."""
