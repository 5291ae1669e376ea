"""Usage on the account page: a panel loaded with htmx so the page itself stays fast."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from touchpoint.accounts.models import Account
from touchpoint.request_types import AuthenticatedHttpRequest
from touchpoint.usage import charts, rollups, selectors, services, store
from touchpoint.usage import key_features as key_feature_services
from touchpoint.usage.forms import SourceForm
from touchpoint.usage.models import KeyFeature, Source
from touchpoint.users.permissions import can, permission_required, require

CHART_DAYS = 90


@login_required
@require_GET
def account_usage_panel(request: HttpRequest, account_id: int) -> HttpResponse:
    account = get_object_or_404(Account, pk=account_id)
    require(request.user, "accounts.view_account", account)
    series = selectors.usage_by_day(account, days=CHART_DAYS)
    used, defined = selectors.breadth_of_adoption(account)
    total = sum(day["events"] for day in series)
    trend = selectors.active_people_trend(account, days=CHART_DAYS) if total else []
    return render(
        request,
        "usage/_account_usage.html",
        {
            "account": account,
            "chart_svg": charts.events_per_day_svg(series) if total else "",
            "total_events": total,
            "days": CHART_DAYS,
            "last_seen": selectors.last_seen(account),
            "active": {window: rollups.active_users(account.pk, days=window) for window in (1, 7, 30)},
            "top_events": selectors.top_events(account, days=30),
            "key_features_used": used,
            "key_features_defined": defined,
            "people_svg": charts.active_people_svg(trend) if trend else "",
            "stickiness": selectors.stickiness(trend),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def key_features(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Every event name seen; admins mark the ones that count towards breadth of adoption.

    Everyone signed in may read the list (it explains the breadth figure on every account page).
    """
    can_change = can(request.user, "usage.add_keyfeature") and can(request.user, "usage.delete_keyfeature")
    if request.method == "POST":
        require(request.user, "usage.add_keyfeature")
        require(request.user, "usage.delete_keyfeature")
        event = request.POST.get("event", "")
        try:
            if request.POST.get("key") == "1":
                key_feature_services.mark_key_feature(
                    event=event, label=request.POST.get("label", ""), actor=request.user
                )
            else:
                key_feature_services.unmark_key_feature(event=event, actor=request.user)
        except ValidationError as error:
            messages = [m for field_messages in error.message_dict.values() for m in field_messages]
            return HttpResponse(" ".join(messages), status=400)
        if not request.htmx:
            return redirect(f"{reverse('key-features')}?q={request.POST.get('q', '')}")
        row = next((r for r in selectors.event_catalog(search=event) if r["event"] == event), None)
        row = row or {
            "event": event,
            "events": 0,
            "accounts": 0,
            "last_day": None,
            "is_key": request.POST.get("key") == "1",
            "label": request.POST.get("label", ""),
        }
        return render(request, "usage/_key_feature_row.html", {"row": row, "can_change": True})
    # Read-only: the catalog is as fresh as the worker's last rollup refresh (a few seconds).
    search = request.GET.get("q", "")
    return render(
        request,
        "usage/key_features.html",
        {
            "rows": selectors.event_catalog(search=search),
            "search": search,
            "can_change": can_change,
            "defined": KeyFeature.objects.count(),
        },
    )


@permission_required("usage.view_source")
@require_http_methods(["GET", "POST"])
def sources(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Every event source; admins add one here and get its write key."""
    form = SourceForm(request.POST or None)
    if request.method == "POST":
        require(request.user, "usage.add_source")
        if form.is_valid():
            try:
                source = services.create_source(name=form.cleaned_data["name"], actor=request.user)
            except ValidationError as error:
                form.add_error("name", error.message_dict["name"])
            else:
                return redirect("source-detail", source_id=source.pk)
    waiting, oldest = rollups.backlog()
    return render(
        request,
        "usage/sources.html",
        {
            "backlog_events": waiting,
            "backlog_limit": settings.TOUCHPOINT_INGEST_BACKLOG_LIMIT,
            "drain_lag": max(0, round((timezone.now() - oldest).total_seconds())) if oldest else 0,
            "sources": Source.objects.order_by("name"),
            "form": form,
            "can_add": can(request.user, "usage.add_source"),
        },
        status=400 if form.errors else 200,
    )


@permission_required("usage.view_source")
@require_GET
def source_detail(request: AuthenticatedHttpRequest, source_id: int) -> HttpResponse:
    """The write key, snippets for Segment's clients and curl, and the live event debugger."""
    source = get_object_or_404(Source, pk=source_id)
    context = {
        "source": source,
        "events": store.recent_events(source, limit=50),
        "host": request.build_absolute_uri("/").rstrip("/"),
    }
    if request.htmx:
        return render(request, "usage/_recent_events.html", context)
    return render(request, "usage/source_detail.html", context)
