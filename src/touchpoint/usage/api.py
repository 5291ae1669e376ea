"""Usage figures in the REST API."""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema

from touchpoint.accounts.models import Account
from touchpoint.api_contract import READ, Id, answers, require_perm
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
    response=answers({200: UsageOut}, *READ, 404),
    summary="Usage per day",
)
def account_usage(request: HttpRequest, account_id: Id, days: int = Query(30, ge=1, le=730)):
    """Events (track, page and screen calls) and active users per day, oldest first, zero-filled."""
    account = get_object_or_404(Account, pk=account_id)
    require_perm(request, "accounts.view_account", account)
    series = selectors.usage_by_day(account, days=days)
    return {"days": series, "total_events": sum(day["events"] for day in series)}
