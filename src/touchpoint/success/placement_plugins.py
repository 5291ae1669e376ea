"""What the placement engine (daily schedule, domain-event consumer) adds to the shared screens and registries."""

from __future__ import annotations


def register() -> None:
    """Called from SuccessConfig.ready()."""
