"""What milestones and time to value (account panel, domain events, schedule) adds to the shared screens and registries."""

from __future__ import annotations


def register() -> None:
    """Called from SuccessConfig.ready()."""
