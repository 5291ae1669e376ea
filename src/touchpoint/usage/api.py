"""Usage figures in the REST API."""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema

from touchpoint.accounts.models import Account
from touchpoint.accounts.schemas import ErrorOut
from touchpoint.usage import selectors

router = Router(tags=["usage"])


class UsageDay(Schema):
    date: date
    events: int
    active_users: int


class UsageOut(Schema):
    days: list[UsageDay]
    total_events: int


@router.get(
    "/accounts/{account_id}/usage",
    response={200: UsageOut, 401: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="Usage per day",
)
def account_usage(request: HttpRequest, account_id: int, days: int = Query(30, ge=1, le=730)):
    """Events (track, page and screen calls) and active users per day, oldest first, zero-filled."""
    account = get_object_or_404(Account, pk=account_id)
    series = selectors.usage_by_day(account, days=days)
    return {"days": series, "total_events": sum(day["events"] for day in series)}
