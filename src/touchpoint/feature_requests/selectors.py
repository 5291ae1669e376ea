"""Reads of feature requests: the ranked list, one request's requesters and history, an account's
requests, similar titles and suggested duplicates.

The ranking reads each requesting account's ARR and next renewal with revenue's own subqueries
(revenue/portfolio_columns.py: live subscriptions converted to the reporting currency, as the
portfolio shows them) and its latest health grade (health's latest score), all in the one query
over the links; the weighting is metrics.py's.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from touchpoint.accounts.models import Account, Segment
from touchpoint.accounts.rules import readable_accounts_q
from touchpoint.feature_requests import metrics, similarity
from touchpoint.feature_requests.models import (
    OPEN_STATUSES,
    Ask,
    FeatureRequest,
    NotDuplicate,
    RequestChange,
    RequestLink,
    Status,
)
from touchpoint.health.models import HealthScore
from touchpoint.revenue.portfolio_columns import arr_subquery, next_renewal_subquery

SORTS = ("stake", "accounts", "newest")
OPEN = "open"


@dataclass(frozen=True)
class Filters:
    status: str = OPEN  # "open" (new, planned, in progress), "" (all) or one status
    product_area: str = ""
    segment_id: int | None = None  # only the accounts of this segment count (and rank)
    sort: str = "stake"
    q: str = ""


@dataclass
class Ranked:
    request: FeatureRequest
    stake: metrics.Stake
    links: list[RequestLink] = field(default_factory=list)  # aligned with stake.parts
    rank: int = 0

    def parts(self) -> list[tuple[RequestLink, metrics.Part]]:
        return list(zip(self.links, self.stake.parts, strict=True))

    def by_segment(self) -> list[SegmentShare]:
        return segment_shares(self.parts())


@dataclass
class SegmentShare:
    segment: Segment | None
    accounts: int = 0
    arr: Decimal = Decimal(0)
    stake: Decimal = Decimal(0)
    requests: int = 0


def segment_shares(parts: list[tuple[RequestLink, metrics.Part]]) -> list[SegmentShare]:
    """The parts grouped by the account's segment, the biggest stake first (no segment last)."""
    shares: dict[int | None, SegmentShare] = {}
    for link, part in parts:
        segment = link.account.segment
        share = shares.setdefault(segment.pk if segment else None, SegmentShare(segment=segment))
        share.accounts += 1
        share.arr += part.arr
        share.stake += part.stake
    return sorted(
        shares.values(), key=lambda s: (s.segment is None, -s.stake, s.segment.name if s.segment else "")
    )


def _latest_grade() -> Subquery:
    latest = HealthScore.objects.filter(account_id=OuterRef("account_id")).order_by("-day")
    return Subquery(latest.values("grade")[:1])


def requester_links(
    requests: QuerySet[FeatureRequest] | None = None, **filters: Any
) -> QuerySet[RequestLink]:
    """The links with each account's ARR, next renewal and latest grade (one query)."""
    links = (
        RequestLink.objects.all() if requests is None else RequestLink.objects.filter(request__in=requests)
    )
    return (
        links.filter(**filters)
        .annotate(
            arr=arr_subquery("account_id"),
            next_renewal=next_renewal_subquery("account_id"),
            grade=_latest_grade(),
        )
        .select_related("account__segment", "account__owner", "contact")
        .order_by("request_id", "first_asked_at", "id")
    )


def _requester(link: RequestLink) -> metrics.Requester:
    return metrics.Requester(
        account_id=link.account_id,
        arr=link.arr,  # type: ignore[attr-defined]
        next_renewal=link.next_renewal,  # type: ignore[attr-defined]
        grade=link.grade,  # type: ignore[attr-defined]
    )


def live_requests() -> QuerySet[FeatureRequest]:
    return FeatureRequest.objects.filter(merged_into__isnull=True)


def _filtered(filters: Filters) -> QuerySet[FeatureRequest]:
    found = live_requests().select_related("created_by")
    if filters.status == OPEN:
        found = found.filter(status__in=OPEN_STATUSES)
    elif filters.status:
        found = found.filter(status=filters.status)
    if filters.product_area:
        found = found.filter(product_area__iexact=filters.product_area)
    if filters.q:
        found = found.filter(Q(title__icontains=filters.q) | Q(description__icontains=filters.q))
    return found


def ranked(filters: Filters, *, today: date | None = None) -> list[Ranked]:
    """The requests matching `filters`, each with its stake, ranked by `filters.sort` (two queries).

    With a segment, only that segment's accounts count, and requests none of them asked for drop out.
    """
    today = today or timezone.localdate()
    requests = _filtered(filters)
    link_filters: dict[str, Any] = {}
    if filters.segment_id is not None:
        link_filters["account__segment_id"] = filters.segment_id
    by_request: dict[int, list[RequestLink]] = defaultdict(list)
    for link in requester_links(requests, **link_filters):
        by_request[link.request_id].append(link)
    rows = []
    for request in requests:
        links = by_request.get(request.pk, [])
        if filters.segment_id is not None and not links:
            continue
        rows.append(
            Ranked(
                request=request, links=links, stake=metrics.stake([_requester(x) for x in links], today=today)
            )
        )
    if filters.sort == "accounts":
        rows.sort(key=lambda r: (-r.stake.accounts, -r.stake.total, -r.request.pk))
    elif filters.sort == "newest":
        rows.sort(key=lambda r: (r.request.created_at, r.request.pk), reverse=True)
    else:
        rows.sort(key=lambda r: (-r.stake.total, -r.stake.accounts, -r.request.pk))
    for number, row in enumerate(rows, start=1):
        row.rank = number
    return rows


def segments_of(rows: list[Ranked]) -> list[SegmentShare]:
    """The list broken down by segment: requests asked, accounts asking, their ARR and stake."""
    shares: dict[int | None, SegmentShare] = {}
    for row in rows:
        for share in row.by_segment():
            key = share.segment.pk if share.segment else None
            total = shares.setdefault(key, SegmentShare(segment=share.segment))
            total.requests += 1
            total.accounts += share.accounts
            total.arr += share.arr
            total.stake += share.stake
    return sorted(shares.values(), key=lambda s: (s.segment is None, -s.stake))


def product_areas() -> list[str]:
    return sorted(
        {area for area in live_requests().exclude(product_area="").values_list("product_area", flat=True)},
        key=str.lower,
    )


# --- one request ------------------------------------------------------------------------------------


@dataclass
class RequestPage:
    request: FeatureRequest
    ranked: Ranked
    shown: list[tuple[RequestLink, metrics.Part]]  # the requesters the reader may read
    hidden: int  # requesters outside the reader's book
    history: list[RequestChange]
    merged: list[FeatureRequest]


def request_page(request: FeatureRequest, *, reader: Any, today: date | None = None) -> RequestPage:
    today = today or timezone.localdate()
    links = list(
        requester_links(None, request=request).prefetch_related("asks__contact", "asks__recorded_by")
    )
    row = Ranked(
        request=request, links=links, stake=metrics.stake([_requester(x) for x in links], today=today)
    )
    readable = set(
        Account.objects.filter(readable_accounts_q(reader), pk__in=[x.account_id for x in links]).values_list(
            "pk", flat=True
        )
    )
    shown = [(link, part) for link, part in row.parts() if link.account_id in readable]
    merged = list(FeatureRequest.objects.filter(merged_into=request).order_by("merged_at", "pk"))
    history = list(
        RequestChange.objects.filter(request_id__in=[request.pk, *(m.pk for m in merged)])
        .select_related("actor")
        .order_by("at", "id")
    )
    shown.sort(key=lambda pair: (-pair[1].stake, pair[0].account.name))
    return RequestPage(
        request=request,
        ranked=row,
        shown=shown,
        hidden=len(links) - len(shown),
        history=history,
        merged=merged,
    )


def account_requests(account: Account) -> list[RequestLink]:
    """The requests an account asked for, the latest ask first, with their asks."""
    return list(
        RequestLink.objects.filter(account=account)
        .select_related("request", "contact")
        .prefetch_related("asks")
        .order_by("-last_asked_at", "-id")
    )


def asked_by(account_id: int) -> set[int]:
    """The ids of the requests the account asked for."""
    return set(RequestLink.objects.filter(account_id=account_id).values_list("request_id", flat=True))


# --- similar titles and duplicates -----------------------------------------------------------------


def _titles(exclude: int | None = None) -> list[tuple[int, str]]:
    found = live_requests().order_by("pk")
    if exclude is not None:
        found = found.exclude(pk=exclude)
    return list(found.values_list("pk", "title"))


def suggestions(text: str, *, limit: int = 5) -> list[tuple[FeatureRequest, float]]:
    """Requests whose titles read like `text` (what a person is typing), best first."""
    matches = similarity.similar_to(text, _titles(), limit=limit)
    found = FeatureRequest.objects.in_bulk([m.id for m in matches])
    return [(found[m.id], m.score) for m in matches if m.id in found]


def _dismissed() -> set[tuple[int, int]]:
    return set(NotDuplicate.objects.values_list("first_id", "second_id"))


def duplicates_of(request: FeatureRequest, *, limit: int = 5) -> list[tuple[FeatureRequest, float]]:
    """Other live requests that read like this one (the duplicates to consider merging)."""
    if request.is_merged:
        return []
    matches = similarity.similar_to(
        request.title, _titles(exclude=request.pk), at_least=similarity.DUPLICATE_AT, limit=limit + 10
    )
    dismissed = _dismissed()
    matches = [m for m in matches if tuple(sorted((m.id, request.pk))) not in dismissed][:limit]
    found = FeatureRequest.objects.in_bulk([m.id for m in matches])
    return [(found[m.id], m.score) for m in matches if m.id in found]


@dataclass(frozen=True)
class SuggestedPair:
    first: FeatureRequest
    second: FeatureRequest
    score: float


def suggested_duplicates(*, limit: int = 10) -> list[SuggestedPair]:
    """Pairs of live requests that read alike and nobody said differ, the most alike first."""
    dismissed = _dismissed()
    pairs = [
        pair for pair in similarity.duplicate_pairs(_titles()) if (pair.first, pair.second) not in dismissed
    ][:limit]
    found = FeatureRequest.objects.in_bulk([i for pair in pairs for i in (pair.first, pair.second)])
    return [SuggestedPair(found[p.first], found[p.second], p.score) for p in pairs]


def merge_choices(request: FeatureRequest) -> QuerySet[FeatureRequest]:
    return live_requests().exclude(pk=request.pk).order_by("title", "pk")


def asks_of(link: RequestLink) -> list[Ask]:
    return list(link.asks.all())


STATUS_ORDER = [s.value for s in Status]
