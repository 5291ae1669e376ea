"""Usage on the account page: a panel loaded with htmx so the page itself stays fast."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from touchpoint.accounts.models import Account
from touchpoint.usage import charts, rollups, selectors

CHART_DAYS = 90


@login_required
@require_GET
def account_usage_panel(request: HttpRequest, account_id: int) -> HttpResponse:
    account = get_object_or_404(Account, pk=account_id)
    series = selectors.usage_by_day(account, days=CHART_DAYS)
    used, defined = selectors.breadth_of_adoption(account)
    total = sum(day["events"] for day in series)
    return render(request, "usage/_account_usage.html", {
        "account": account,
        "chart_svg": charts.events_per_day_svg(series) if total else "",
        "total_events": total,
        "days": CHART_DAYS,
        "last_seen": selectors.last_seen(account),
        "active": {window: rollups.active_users(account.pk, days=window) for window in (1, 7, 30)},
        "top_events": selectors.top_events(account, days=30),
        "key_features_used": used,
        "key_features_defined": defined,
    })
