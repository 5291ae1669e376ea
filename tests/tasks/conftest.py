from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from touchpoint.tasks import services


@pytest.fixture
def make_task():
    """A task made by the service: `make_task(account, "Title", days=-2)` is due two days ago."""

    def make(account, title="Call the champion", *, days=0, actor=None, **extra):
        return services.create_task(
            account=account,
            title=title,
            due_on=timezone.localdate() + timedelta(days=days),
            actor=actor or account.owner,
            **extra,
        )

    return make
