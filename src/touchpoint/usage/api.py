"""Usage figures in the REST API, and the key features that breadth of adoption counts."""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema, Status
from pydantic import Field

from touchpoint.accounts.models import Account
from touchpoint.api_contract import (
    READ,
    WRITE,
    Id,
    Page,
    Paging,
    Strict,
    answers,
    caller,
    page_of,
    require_perm,
)
from touchpoint.usage import selectors
from touchpoint.usage.key_features import (
    Wanted,
    apply_key_features,
    mark_key_feature,
    unmark_key_feature,
)
from touchpoint.usage.models import KeyFeature

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


# --- Key features -----------------------------------------------------------------------------------
# The same rules as the key-features page: everyone signed in reads the list, admins change it.

EVENT_LIMIT = 210  # KeyFeature.event
LABEL_LIMIT = 100  # KeyFeature.label
MAX_FEATURES = 1000  # a set far larger than any product's list of features that matter


class KeyFeatureOut(Schema):
    id: int
    event: str
    label: str


class KeyFeatureIn(Strict):
    event: str = Field(
        min_length=1,
        max_length=EVENT_LIMIT,
        description="As it appears in the rollups: a track event name, or “page: Name”.",
    )
    label: str = Field("", max_length=LABEL_LIMIT)


class KeyFeatureSetIn(Strict):
    key_features: list[KeyFeatureIn] = Field(max_length=MAX_FEATURES)
    dry_run: bool = Field(False, description="Say what would change, and change nothing.")


class RelabelledOut(Schema):
    event: str
    old_label: str
    label: str


class KeyFeatureChangesOut(Schema):
    created: list[str]
    relabelled: list[RelabelledOut]
    removed: list[str]
    unchanged: int
    dry_run: bool


def _feature_out(feature: KeyFeature) -> dict:
    return {"id": feature.pk, "event": feature.event, "label": feature.label}


def _require_change(request: HttpRequest) -> None:
    # The page's toggle both marks and unmarks, and asks for both; so does every write here.
    for perm in ("usage.add_keyfeature", "usage.change_keyfeature", "usage.delete_keyfeature"):
        require_perm(request, perm)


@router.get(
    "/key-features",
    response=answers({200: Page[KeyFeatureOut]}, *READ),
    summary="List key features",
)
def list_key_features(request: HttpRequest, paging: Query[Paging]):
    """The events that count towards breadth of adoption, by event name."""
    require_perm(request, "usage.view_keyfeature")
    return page_of(KeyFeature.objects.order_by("event"), paging, _feature_out)


@router.post(
    "/key-features",
    response=answers({200: KeyFeatureOut, 201: KeyFeatureOut}, *WRITE),
    summary="Mark an event as a key feature",
)
def post_key_feature(request: HttpRequest, body: KeyFeatureIn):
    """Count an event towards breadth of adoption (201), or relabel it if it already counts (200)."""
    _require_change(request)
    existed = KeyFeature.objects.filter(event=body.event.strip()).exists()
    feature = mark_key_feature(event=body.event, label=body.label, actor=caller(request))
    return Status(200 if existed else 201, _feature_out(feature))


@router.delete(
    "/key-features/{feature_id}",
    response=answers({204: None}, *READ, 404),
    summary="Stop counting an event as a key feature",
)
def delete_key_feature(request: HttpRequest, feature_id: Id):
    """The event stays in the rollups; breadth of adoption no longer counts it."""
    feature = get_object_or_404(KeyFeature, pk=feature_id)
    _require_change(request)
    unmark_key_feature(event=feature.event, actor=caller(request))
    return Status(204, None)


@router.put(
    "/key-features",
    response=answers({200: KeyFeatureChangesOut}, *WRITE),
    summary="Replace the set of key features",
)
def put_key_features(request: HttpRequest, body: KeyFeatureSetIn):
    """Make the key features exactly those listed: new events are marked, changed labels kept, and
    events not listed stop counting. All or nothing; sending the same set again changes nothing.
    An event listed twice is a 422 naming the item (`key_features[3].event`)."""
    _require_change(request)
    changes = apply_key_features(
        features=[Wanted(event=item.event, label=item.label) for item in body.key_features],
        prune=True,
        actor=caller(request),
        dry_run=body.dry_run,
    )
    return {**changes.as_dict(), "dry_run": body.dry_run}
