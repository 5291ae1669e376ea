"""Every write to feature requests: one transaction each, validated first, audited, on the timeline.

    request = create_request(title="Export reports to CSV", product_area="Reports", actor=user)
    ask(request=request, account=acme, verbatim="We paste it into Excel by hand", contact=ana, actor=user)
    change_status(request=request, status="shipped", note="In 4.2", actor=pm)   # owners get a task
    merge(duplicate=other, survivor=request, actor=pm)

An account asking again for the same request adds an ask to its one link (every verbatim is kept).
A request that ships puts an entry on each requesting account's timeline, records a
`feature_request.shipped` event per account, and gives each of their owners one task to tell them,
once per request (shipping it again later makes no second task).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from touchpoint.accounts.models import Account, Contact
from touchpoint.accounts.services import record_on_timeline
from touchpoint.events.services import record_event
from touchpoint.feature_requests import timeline
from touchpoint.feature_requests.models import (
    Ask,
    ChangeKind,
    FeatureRequest,
    NotDuplicate,
    RequestChange,
    RequestLink,
    Status,
)
from touchpoint.plain_text import clean_text as _text
from touchpoint.users.models import User
from touchpoint.users.services import record_audit

EARLIEST = datetime(2000, 1, 1, tzinfo=timezone.get_fixed_timezone(0))
TASK_DUE_IN_DAYS = 7


# --- checks -----------------------------------------------------------------------------------------


def _moment(value: datetime | None, field: str) -> datetime:
    now = timezone.now()
    if value is None:
        return now
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if value < EARLIEST or value > now + timedelta(days=1):
        raise ValidationError({field: _("Give a moment between 2000 and today.")})
    return value


def _external_id(value: str | None) -> str | None:
    value = _text(value, "external_id", limit=128)
    return value or None


def _live(request: FeatureRequest) -> FeatureRequest:
    """The request an ask lands on: a merged request's survivor."""
    seen = set()
    while request.merged_into_id is not None and request.pk not in seen:
        seen.add(request.pk)
        request = FeatureRequest.objects.get(pk=request.merged_into_id)
    return request


def _lock(request: FeatureRequest) -> FeatureRequest:
    return FeatureRequest.objects.select_for_update().get(pk=request.pk)


def request_url(request: FeatureRequest | int) -> str:
    return reverse("feature-request", args=[request if isinstance(request, int) else request.pk])


# --- requests ---------------------------------------------------------------------------------------


@transaction.atomic
def create_request(
    *,
    title: str,
    actor: User | None,
    description: str = "",
    product_area: str = "",
    external_id: str | None = None,
    created_at: datetime | None = None,
) -> FeatureRequest:
    """A new request (status new), with its first history row."""
    title = _text(title, "title", limit=200, required=True)
    description = _text(description, "description", limit=5000)
    product_area = _text(product_area, "product_area", limit=100)
    external_id = _external_id(external_id)
    created_at = _moment(created_at, "created_at")
    if external_id and FeatureRequest.objects.filter(external_id=external_id).exists():
        raise ValidationError({"external_id": _("Another request has this external ID.")})
    request = FeatureRequest.objects.create(
        title=title,
        description=description,
        product_area=product_area,
        external_id=external_id,
        created_by=actor if actor is not None and actor.pk else None,
        created_at=created_at,
        status_changed_at=created_at,
    )
    RequestChange.objects.create(
        request=request,
        kind=ChangeKind.CREATED,
        to_status=Status.NEW,
        actor=request.created_by,
        at=created_at,
    )
    record_audit(
        actor=actor,
        action="feature_requests.created",
        instance=request,
        changes={"title": title, "product_area": product_area},
    )
    return request


@transaction.atomic
def update_request(
    *, request: FeatureRequest, actor: User | None, title: str, description: str, product_area: str
) -> FeatureRequest:
    """Change the title, description or product area (the status has its own service)."""
    if request.is_merged:
        raise ValidationError({"title": _("This request was merged into another; change that one.")})
    wanted = {
        "title": _text(title, "title", limit=200, required=True),
        "description": _text(description, "description", limit=5000),
        "product_area": _text(product_area, "product_area", limit=100),
    }
    request = _lock(request)
    changes = {
        name: [getattr(request, name), value]
        for name, value in wanted.items()
        if getattr(request, name) != value
    }
    if not changes:
        return request
    for name, (_before, after) in changes.items():
        setattr(request, name, after)
    request.save(update_fields=[*changes, "updated_at"])
    RequestChange.objects.create(
        request=request, kind=ChangeKind.EDITED, actor=actor if actor and actor.pk else None, data=changes
    )
    record_audit(actor=actor, action="feature_requests.changed", instance=request, changes=changes)
    return request


# --- asks -------------------------------------------------------------------------------------------


@transaction.atomic
def ask(
    *,
    request: FeatureRequest,
    account: Account,
    actor: User | None,
    verbatim: str = "",
    contact: Contact | None = None,
    asked_at: datetime | None = None,
    external_id: str | None = None,
) -> RequestLink:
    """`account` asked for `request` (a merged request's survivor takes it).

    The account's one link is made on its first ask; a later ask adds its verbatim to the same link
    (the link shows the latest). On the account's timeline, audited, a `feature_request.asked` event.
    """
    verbatim = _text(verbatim, "verbatim", limit=5000)
    asked_at = _moment(asked_at, "asked_at")
    external_id = _external_id(external_id)
    if contact is not None and contact.account_id != account.pk:
        raise ValidationError({"contact": _("Choose a contact of this account.")})
    if external_id and Ask.objects.filter(external_id=external_id).exists():
        raise ValidationError({"external_id": _("Another ask has this external ID.")})
    request = _lock(_live(request))
    link, created = RequestLink.objects.get_or_create(
        request=request,
        account=account,
        defaults={
            "first_asked_at": asked_at,
            "last_asked_at": asked_at,
            "verbatim": verbatim,
            "contact": contact,
        },
    )
    if not created:
        changed: list[str] = []
        if asked_at < link.first_asked_at:
            link.first_asked_at = asked_at
            changed.append("first_asked_at")
        if asked_at >= link.last_asked_at:
            link.last_asked_at = asked_at
            changed.append("last_asked_at")
            if verbatim:
                link.verbatim = verbatim
                changed.append("verbatim")
            if contact is not None:
                link.contact = contact
                changed.append("contact")
        if changed:
            link.save(update_fields=changed)
    recorder = actor if actor is not None and actor.pk else None
    Ask.objects.create(
        link=link,
        asked_at=asked_at,
        verbatim=verbatim,
        contact=contact,
        recorded_by=recorder,
        external_id=external_id,
    )
    record_on_timeline(
        account=account,
        kind=timeline.ASKED,
        title=f"Asked for a feature: {request.title}",
        body=verbatim,
        occurred_at=asked_at,
        actor=recorder,
        subject=request,
        data={
            "request_id": request.pk,
            "title": request.title,
            "contact_id": contact.pk if contact else None,
        },
    )
    record_event(
        kind="feature_request.asked",
        account=account,
        subject=request,
        actor=recorder,
        occurred_at=asked_at,
        payload={
            "request_id": request.pk,
            "title": request.title,
            "contact_id": contact.pk if contact else None,
        },
    )
    record_audit(
        actor=actor,
        action="feature_requests.asked",
        instance=request,
        changes={
            "account_id": account.pk,
            "contact_id": contact.pk if contact else None,
            "new_link": created,
        },
    )
    return link


@transaction.atomic
def update_ask(
    *, ask: Ask, verbatim: str, contact: Contact | None, asked_at: datetime, actor: User | None
) -> bool:
    """Correct an ask (a CSV row imported again with other words); True when something changed.

    The link shows its latest ask again afterwards."""
    verbatim = _text(verbatim, "verbatim", limit=5000)
    asked_at = _moment(asked_at, "asked_at")
    link = RequestLink.objects.select_for_update().get(pk=ask.link_id)
    if contact is not None and contact.account_id != link.account_id:
        raise ValidationError({"contact": _("Choose a contact of this account.")})
    wanted = {"verbatim": verbatim, "contact_id": contact.pk if contact else None, "asked_at": asked_at}
    changes = {
        name: [getattr(ask, name), value] for name, value in wanted.items() if getattr(ask, name) != value
    }
    if not changes:
        return False
    for name, (_before, after) in changes.items():
        setattr(ask, name, after)
    ask.save(update_fields=list(changes))
    asks = list(link.asks.order_by("asked_at", "id"))
    latest = asks[-1]
    link.first_asked_at, link.last_asked_at = asks[0].asked_at, latest.asked_at
    link.verbatim, link.contact_id = latest.verbatim, latest.contact_id
    link.save(update_fields=["first_asked_at", "last_asked_at", "verbatim", "contact"])
    record_audit(
        actor=actor,
        action="feature_requests.ask_changed",
        instance=ask,
        changes={name: [str(before), str(after)] for name, (before, after) in changes.items()},
    )
    return True


@transaction.atomic
def request_feature(
    *,
    account: Account,
    actor: User | None,
    request: FeatureRequest | None = None,
    title: str = "",
    description: str = "",
    product_area: str = "",
    verbatim: str = "",
    contact: Contact | None = None,
    asked_at: datetime | None = None,
) -> RequestLink:
    """The account page's "add a request": the account asks for an existing request, or for a new one
    written down here (title, description, product area), in one transaction."""
    if request is None:
        request = create_request(title=title, description=description, product_area=product_area, actor=actor)
    return ask(
        request=request, account=account, actor=actor, verbatim=verbatim, contact=contact, asked_at=asked_at
    )


# --- status -----------------------------------------------------------------------------------------


@transaction.atomic
def change_status(
    *,
    request: FeatureRequest,
    status: str,
    note: str,
    actor: User | None,
    at: datetime | None = None,
) -> FeatureRequest:
    """Move the request to `status` with a note saying why (kept in its history).

    The same status again changes nothing. Shipping it puts an entry on each requesting account's
    timeline with a `feature_request.shipped` event, and, the first time it ships, gives each owner
    of those accounts one task to tell them.
    """
    if status not in Status.values:
        raise ValidationError({"status": _("Choose one of the offered values.")})
    note = _text(note, "note", limit=2000, required=True)
    at = _moment(at, "at")
    if request.is_merged:
        raise ValidationError({"status": _("This request was merged into another; change that one.")})
    request = _lock(request)
    before = request.status
    if before == status:
        return request
    request.status = status
    request.status_changed_at = at
    request.shipped_at = at if status == Status.SHIPPED else None
    request.save(update_fields=["status", "status_changed_at", "shipped_at", "updated_at"])
    recorder = actor if actor is not None and actor.pk else None
    RequestChange.objects.create(
        request=request,
        kind=ChangeKind.STATUS,
        from_status=before,
        to_status=status,
        note=note,
        actor=recorder,
        at=at,
    )
    record_audit(
        actor=actor,
        action="feature_requests.status_changed",
        instance=request,
        changes={"status": [before, status], "note": note},
    )
    if status == Status.SHIPPED:
        _shipped(request, actor=recorder, at=at)
    return request


def _shipped(request: FeatureRequest, *, actor: User | None, at: datetime) -> None:
    links = list(
        RequestLink.objects.filter(request=request)
        .select_related("account__owner")
        .prefetch_related("asks__contact")
        .order_by("account__name", "account_id")
    )
    for link in links:
        contact_ids = sorted({a.contact_id for a in link.asks.all() if a.contact_id is not None})
        record_on_timeline(
            account=link.account,
            kind=timeline.SHIPPED,
            title=f"A feature they asked for shipped: {request.title}",
            occurred_at=at,
            actor=actor,
            subject=request,
            data={"request_id": request.pk, "title": request.title},
        )
        record_event(
            kind="feature_request.shipped",
            account=link.account,
            subject=request,
            actor=actor,
            occurred_at=at,
            payload={"request_id": request.pk, "title": request.title, "contact_ids": contact_ids},
        )
        contacts = {a.contact_id: a.contact for a in link.asks.all() if a.contact is not None}
        for contact_id in contact_ids:
            record_event(
                kind="feature_request.shipped_for_contact",
                account=link.account,
                subject=contacts[contact_id],
                actor=actor,
                occurred_at=at,
                payload={"request_id": request.pk, "title": request.title},
            )
    if request.owners_told_at is None:
        _tasks_for_owners(request, links, actor=actor, at=at)
        request.owners_told_at = at
        request.save(update_fields=["owners_told_at"])


def _tasks_for_owners(
    request: FeatureRequest, links: list[RequestLink], *, actor: User | None, at: datetime
) -> None:
    """One task per owner of the requesting accounts (however many of theirs asked): tell them."""
    from touchpoint.tasks.models import TaskSource
    from touchpoint.tasks.services import create_task

    by_owner: dict[int, list[RequestLink]] = defaultdict(list)
    owners: dict[int, User] = {}
    for link in links:
        owner = link.account.owner
        if owner is not None and owner.is_active:
            by_owner[owner.pk].append(link)
            owners[owner.pk] = owner
    due: date = timezone.localdate(at) + timedelta(days=TASK_DUE_IN_DAYS)
    for owner_id, owned in by_owner.items():
        names = ", ".join(link.account.name for link in owned)
        create_task(
            title=_("Tell the customers who asked: “%(title)s” has shipped") % {"title": request.title[:120]},
            due_on=due,
            actor=actor,
            owner=owners[owner_id],
            source=TaskSource.RULE,
            notes=_("Accounts that asked: %(names)s") % {"names": names},
            about_label=request.title[:200],
            about_url=request_url(request),
        )


# --- duplicates -------------------------------------------------------------------------------------


@transaction.atomic
def merge(
    *, duplicate: FeatureRequest, survivor: FeatureRequest, actor: User | None, note: str = ""
) -> FeatureRequest:
    """Fold `duplicate` into `survivor`: its accounts (an account linked to both keeps one link, with
    the asks of both) and anything merged into it move over; it keeps its history and points at the
    survivor from now on. Returns the survivor."""
    note = _text(note, "note", limit=2000)
    if duplicate.pk == survivor.pk:
        raise ValidationError({"survivor": _("A request cannot be merged into itself.")})
    if duplicate.is_merged:
        raise ValidationError({"duplicate": _("This request was merged already.")})
    if survivor.is_merged:
        raise ValidationError({"survivor": _("That request was merged into another; merge into that one.")})
    # Locked in id order, so two merges of the same pair take turns instead of deadlocking.
    locked = {
        r.pk: r
        for r in FeatureRequest.objects.select_for_update()
        .filter(pk__in=[duplicate.pk, survivor.pk])
        .order_by("pk")
    }
    duplicate, survivor = locked[duplicate.pk], locked[survivor.pk]
    at = timezone.now()
    theirs = {link.account_id: link for link in RequestLink.objects.filter(request=survivor)}
    moved, shared = 0, 0
    for link in RequestLink.objects.filter(request=duplicate).order_by("pk"):
        kept = theirs.get(link.account_id)
        if kept is None:
            link.request = survivor
            link.save(update_fields=["request"])
            moved += 1
            continue
        shared += 1
        Ask.objects.filter(link=link).update(link=kept)
        kept.first_asked_at = min(kept.first_asked_at, link.first_asked_at)
        if link.last_asked_at > kept.last_asked_at:
            kept.last_asked_at = link.last_asked_at
            kept.verbatim = link.verbatim or kept.verbatim
            kept.contact_id = link.contact_id or kept.contact_id
        kept.save(update_fields=["first_asked_at", "last_asked_at", "verbatim", "contact"])
        link.delete()
    FeatureRequest.objects.filter(merged_into=duplicate).update(merged_into=survivor)
    duplicate.merged_into = survivor
    duplicate.merged_at = at
    duplicate.save(update_fields=["merged_into", "merged_at", "updated_at"])
    recorder = actor if actor is not None and actor.pk else None
    RequestChange.objects.create(
        request=duplicate,
        kind=ChangeKind.MERGED_AWAY,
        note=note,
        actor=recorder,
        at=at,
        data={"survivor_id": survivor.pk, "title": survivor.title},
    )
    RequestChange.objects.create(
        request=survivor,
        kind=ChangeKind.MERGED_IN,
        note=note,
        actor=recorder,
        at=at,
        data={"duplicate_id": duplicate.pk, "title": duplicate.title, "moved": moved, "shared": shared},
    )
    record_audit(
        actor=actor,
        action="feature_requests.merged",
        instance=survivor,
        changes={
            "duplicate_id": duplicate.pk,
            "duplicate": duplicate.title,
            "moved": moved,
            "shared": shared,
        },
    )
    return survivor


@transaction.atomic
def not_a_duplicate(*, first: FeatureRequest, second: FeatureRequest, actor: User | None) -> NotDuplicate:
    """Someone read the suggested pair and they are different requests: no longer suggested."""
    if first.pk == second.pk:
        raise ValidationError({"second": _("Choose another request.")})
    low, high = sorted((first.pk, second.pk))
    row, _created = NotDuplicate.objects.get_or_create(
        first_id=low, second_id=high, defaults={"decided_by": actor if actor and actor.pk else None}
    )
    record_audit(
        actor=actor, action="feature_requests.not_duplicate", instance=first, changes={"other_id": second.pk}
    )
    return row
