"""REST API for feature requests: the ranked list (the backlog export as JSON, with each request's
stake broken down), one request with its requesters and history, new requests, asks, status changes,
merges and suggested duplicates."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field

from touchpoint.accounts.models import Account, Contact, Segment
from touchpoint.accounts.schemas import Ref
from touchpoint.api_contract import (
    READ,
    WRITE,
    Id,
    Moment,
    Page,
    Paging,
    Strict,
    Text,
    answers,
    caller,
    page_of,
    require_perm,
)
from touchpoint.feature_requests import selectors, services
from touchpoint.feature_requests.metrics import Part, Stake
from touchpoint.feature_requests.models import FeatureRequest, RequestLink

router = Router(tags=["feature requests"])

StatusValue = Literal["new", "planned", "in_progress", "shipped", "declined"]
StatusFilter = Literal["open", "all", "new", "planned", "in_progress", "shipped", "declined"]
SortValue = Literal["stake", "accounts", "newest"]


class StakeOut(Schema):
    total: Decimal = Field(description="Revenue at stake: Σ ARR × weight, in the reporting currency")
    arr: Decimal = Field(description="ARR of the requesting accounts, unweighted")
    renewal_boost: Decimal = Field(description="What near renewals add")
    health_boost: Decimal = Field(description="What red or yellow health adds")
    accounts: int
    renewing_soon: int
    at_risk: int
    currency: str


class RequestOut(Schema):
    id: int
    rank: int = Field(description="Place in this list (1 is first), after its filters and sort")
    title: str
    description: str
    product_area: str
    status: StatusValue
    external_id: str | None
    created_at: datetime
    created_by: Ref | None
    shipped_at: datetime | None
    merged_into: int | None
    stake: StakeOut


class AskOut(Schema):
    asked_at: datetime
    verbatim: str
    contact: Ref | None


class RequesterOut(Schema):
    account: Ref
    segment: str | None
    arr: Decimal | None
    next_renewal: date | None
    health_grade: str | None
    weight: Decimal = Field(description="1 + renewal boost + health boost")
    stake: Decimal
    first_asked_at: datetime
    last_asked_at: datetime
    asks: list[AskOut]


class ChangeOut(Schema):
    request_id: int
    kind: Literal["created", "status", "edited", "merged_in", "merged_away"]
    from_status: str
    to_status: str
    note: str
    actor: Ref | None
    at: datetime


class RequestDetailOut(RequestOut):
    requesters: list[RequesterOut] = Field(description="The requesting accounts the caller may read")
    hidden_requesters: int = Field(
        description="Requesting accounts outside the caller's book (in the totals)"
    )
    history: list[ChangeOut]


class DuplicateOut(Schema):
    id: int
    title: str
    status: StatusValue
    similarity: float


def _ref(row: object | None) -> Ref | None:
    return None if row is None else Ref(id=row.pk, name=str(row))  # type: ignore[attr-defined]


def _stake(stake: Stake) -> dict:
    return {
        "total": stake.total,
        "arr": stake.arr,
        "renewal_boost": stake.renewal_boost,
        "health_boost": stake.health_boost,
        "accounts": stake.accounts,
        "renewing_soon": stake.renewing_soon,
        "at_risk": stake.at_risk,
        "currency": settings.TOUCHPOINT_CURRENCY,
    }


def _out(row: selectors.Ranked) -> dict:
    feature = row.request
    return {
        "id": feature.pk,
        "rank": row.rank,
        "title": feature.title,
        "description": feature.description,
        "product_area": feature.product_area,
        "status": feature.status,
        "external_id": feature.external_id,
        "created_at": feature.created_at,
        "created_by": _ref(feature.created_by),
        "shipped_at": feature.shipped_at,
        "merged_into": feature.merged_into_id,
        "stake": _stake(row.stake),
    }


def _requester(link: RequestLink, part: Part) -> dict:
    return {
        "account": Ref(id=link.account_id, name=link.account.name),
        "segment": link.account.segment.name if link.account.segment else None,
        "arr": part.requester.arr,
        "next_renewal": part.requester.next_renewal,
        "health_grade": part.requester.grade,
        "weight": part.weight.total,
        "stake": part.stake,
        "first_asked_at": link.first_asked_at,
        "last_asked_at": link.last_asked_at,
        "asks": [
            {"asked_at": one.asked_at, "verbatim": one.verbatim, "contact": _ref(one.contact)}
            for one in link.asks.all()
        ],
    }


def _detail(request: HttpRequest, feature: FeatureRequest) -> dict:
    page = selectors.request_page(feature, reader=caller(request))
    return _out(page.ranked) | {
        "requesters": [_requester(link, part) for link, part in page.shown],
        "hidden_requesters": page.hidden,
        "history": [
            {
                "request_id": change.request_id,
                "kind": change.kind,
                "from_status": change.from_status,
                "to_status": change.to_status,
                "note": change.note,
                "actor": _ref(change.actor),
                "at": change.at,
            }
            for change in page.history
        ],
    }


def _load(request_id: int) -> FeatureRequest:
    return get_object_or_404(FeatureRequest.objects.select_related("created_by"), pk=request_id)


class ListQuery(Schema):
    status: StatusFilter = Field("open", description="open: new, planned and in progress")
    product_area: Text = Field("", max_length=100)
    segment: Id | None = Field(None, description="Only the accounts of this segment count")
    sort: SortValue = "stake"
    q: Text = Field("", max_length=200, description="Words in the title or description")


@router.get(
    "/feature-requests",
    response=answers({200: Page[RequestOut]}, *READ),
    summary="List feature requests, ranked",
)
def list_requests(request: HttpRequest, paging: Query[Paging], query: Query[ListQuery]):
    """The requests ranked by revenue at stake (or `sort=accounts`, `sort=newest`), each with the
    figures behind its rank: the backlog export as JSON."""
    require_perm(request, "feature_requests.view_featurerequest")
    if query.segment is not None and not Segment.objects.filter(pk=query.segment).exists():
        raise ValidationError({"segment": _("No such segment.")})
    filters = selectors.Filters(
        status="" if query.status == "all" else query.status,
        product_area=query.product_area,
        segment_id=query.segment,
        sort=query.sort,
        q=query.q,
    )
    return page_of(selectors.ranked(filters), paging, _out)


class RequestIn(Strict):
    title: Text = Field(min_length=1, max_length=200)
    description: Text = Field("", max_length=5000)
    product_area: Text = Field("", max_length=100)
    external_id: Text | None = Field(None, max_length=128, description="Its id in the tool it came from")


@router.post(
    "/feature-requests",
    response=answers({201: RequestDetailOut}, *WRITE, 409),
    summary="Create a feature request",
)
def create_request(request: HttpRequest, body: RequestIn):
    """A new request (status new). Link the accounts that ask with `POST /feature-requests/{id}/asks`."""
    require_perm(request, "feature_requests.add_featurerequest")
    feature = services.create_request(actor=caller(request), **body.dict())
    return Status(201, _detail(request, _load(feature.pk)))


@router.get(
    "/feature-requests/{request_id}",
    response=answers({200: RequestDetailOut}, *READ, 404),
    summary="Get a feature request",
)
def get_request(request: HttpRequest, request_id: Id):
    """The request with its stake, the requesting accounts (ARR, renewal, health, weight, asks) and
    its history (with that of the requests merged into it). A merged request says `merged_into`."""
    require_perm(request, "feature_requests.view_featurerequest")
    return _detail(request, _load(request_id))


class RequestPatch(Strict):
    title: Text | None = Field(None, min_length=1, max_length=200)
    description: Text | None = Field(None, max_length=5000)
    product_area: Text | None = Field(None, max_length=100)


@router.patch(
    "/feature-requests/{request_id}",
    response=answers({200: RequestDetailOut}, *WRITE, 404),
    summary="Change a feature request's title, description or product area",
)
def patch_request(request: HttpRequest, request_id: Id, body: RequestPatch):
    feature = _load(request_id)
    require_perm(request, "feature_requests.change_featurerequest", feature)
    services.update_request(
        request=feature,
        actor=caller(request),
        title=feature.title if body.title is None else body.title,
        description=feature.description if body.description is None else body.description,
        product_area=feature.product_area if body.product_area is None else body.product_area,
    )
    return _detail(request, _load(request_id))


class StatusIn(Strict):
    status: StatusValue
    note: Text = Field(min_length=1, max_length=2000, description="Why (kept in the history)")


@router.post(
    "/feature-requests/{request_id}/status",
    response=answers({200: RequestDetailOut}, *WRITE, 404),
    summary="Change a feature request's status",
)
def post_status(request: HttpRequest, request_id: Id, body: StatusIn):
    """Shipped puts it on the requesting accounts' timelines and, the first time, gives each of their
    owners a task to tell them. The same status again changes nothing."""
    feature = _load(request_id)
    require_perm(request, "feature_requests.change_featurerequest", feature)
    services.change_status(request=feature, status=body.status, note=body.note, actor=caller(request))
    return _detail(request, _load(request_id))


class AskIn(Strict):
    account_id: Id
    verbatim: Text = Field("", max_length=5000, description="What they said, in their words")
    contact_id: Id | None = Field(None, description="Who at the account asked")
    asked_at: Moment | None = Field(None, description="When (default now)")
    external_id: Text | None = Field(None, max_length=128)


class LinkOut(Schema):
    request_id: int
    account: Ref
    first_asked_at: datetime
    last_asked_at: datetime
    asks: int


@router.post(
    "/feature-requests/{request_id}/asks",
    response=answers({201: LinkOut}, *WRITE, 404, 409),
    summary="Record that an account asked for a feature request",
)
def post_ask(request: HttpRequest, request_id: Id, body: AskIn):
    """The account asked (again): one link per account, every ask kept. Asking for a merged request
    lands on the request it was merged into."""
    require_perm(request, "feature_requests.view_featurerequest")
    feature = _load(request_id)
    account = Account.objects.filter(pk=body.account_id).first()
    if account is None:
        raise ValidationError({"account_id": _("No such account.")})
    require_perm(request, "feature_requests.add_requestlink", account)
    contact = None
    if body.contact_id is not None:
        contact = Contact.objects.filter(pk=body.contact_id, account=account).first()
        if contact is None:
            raise ValidationError({"contact_id": _("No such contact at this account.")})
    link = services.ask(
        request=feature,
        account=account,
        actor=caller(request),
        verbatim=body.verbatim,
        contact=contact,
        asked_at=body.asked_at,
        external_id=body.external_id,
    )
    return Status(
        201,
        {
            "request_id": link.request_id,
            "account": Ref(id=account.pk, name=account.name),
            "first_asked_at": link.first_asked_at,
            "last_asked_at": link.last_asked_at,
            "asks": link.asks.count(),
        },
    )


class MergeIn(Strict):
    into: Id = Field(description="The request that stays")
    note: Text = Field("", max_length=2000)


@router.post(
    "/feature-requests/{request_id}/merge",
    response=answers({200: RequestDetailOut}, *WRITE, 404),
    summary="Merge a feature request into another",
)
def post_merge(request: HttpRequest, request_id: Id, body: MergeIn):
    """This request's accounts and asks move to `into` (an account on both keeps one link); it keeps
    its history and points at `into` from now on. Answers the request that stays."""
    duplicate = _load(request_id)
    require_perm(request, "feature_requests.change_featurerequest", duplicate)
    survivor = FeatureRequest.objects.filter(pk=body.into).first()
    if survivor is None:
        raise ValidationError({"into": _("No such request.")})
    services.merge(duplicate=duplicate, survivor=survivor, note=body.note, actor=caller(request))
    return _detail(request, _load(survivor.pk))


@router.get(
    "/feature-requests/{request_id}/duplicates",
    response=answers({200: list[DuplicateOut]}, *READ, 404),
    summary="Suggested duplicates of a feature request",
)
def get_duplicates(request: HttpRequest, request_id: Id):
    """Other requests whose titles read like this one (TF-IDF over character n-grams, cosine
    similarity at least 0.5), the most alike first; pairs someone said differ are left out."""
    require_perm(request, "feature_requests.view_featurerequest")
    feature = _load(request_id)
    return [
        {"id": other.pk, "title": other.title, "status": other.status, "similarity": round(score, 4)}
        for other, score in selectors.duplicates_of(feature)
    ]
