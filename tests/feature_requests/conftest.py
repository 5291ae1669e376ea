from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.factories import AccountFactory, SubscriptionFactory
from touchpoint.health.models import HealthScore


def arr_account(
    *, arr: int, owner=None, renewal_in: int | None = None, grade: str | None = None, segment=None, **kw
):
    """An account with one live subscription of `arr` a year (USD), its renewal and latest grade."""
    extra = {"owner": owner} if owner is not None else {}
    if segment is not None:
        extra["segment"] = segment
    account = AccountFactory(**extra, **kw)
    today = timezone.localdate()
    SubscriptionFactory(
        account=account,
        mrr=(Decimal(arr) / 12).quantize(Decimal("0.01")),
        currency="USD",
        status="active",
        renewal_date=today + timedelta(days=renewal_in) if renewal_in is not None else None,
    )
    if grade is not None:
        HealthScore.objects.create(
            account=account, day=today - timedelta(days=1), version_id=1, score=50, grade=grade
        )
        HealthScore.objects.create(
            account=account, day=today - timedelta(days=20), version_id=1, score=90, grade="green"
        )
    return account


@pytest.fixture
def today() -> date:
    return timezone.localdate()
