"""What the success-gap funnel adds to the shared registries: the signals that move its cache on."""

from __future__ import annotations


def register() -> None:
    """Called from SuccessConfig.ready()."""
    from django.db.models.signals import post_delete, post_save

    from touchpoint.accounts.models import Account
    from touchpoint.success.funnel import data_changed
    from touchpoint.success.models import AccountPlacement, MilestoneDefinition, MilestoneReached

    # The funnel's cache is keyed on a version these bump (success/funnel.py, `_change_marker`).
    for model in (MilestoneReached, AccountPlacement, MilestoneDefinition, Account):
        post_save.connect(data_changed, sender=model, dispatch_uid=f"success-funnel-{model.__name__}-saved")
        post_delete.connect(
            data_changed, sender=model, dispatch_uid=f"success-funnel-{model.__name__}-deleted"
        )
