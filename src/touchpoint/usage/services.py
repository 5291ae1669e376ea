"""Taking in product events: one batch, one transaction, nothing stored twice."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, Literal, cast, overload

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from touchpoint.accounts import services as account_services
from touchpoint.accounts.models import Account, Contact
from touchpoint.usage import group_commit, rollups, store
from touchpoint.usage import privacy as usage_privacy
from touchpoint.usage.models import ProductUser, Source
from touchpoint.usage.segment import Message, MessageError, parse_message
from touchpoint.users.models import User
from touchpoint.users.services import record_audit


@dataclass
class Rejection:
    index: int
    message_id: str
    field: str
    message: str

    def as_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "messageId": self.message_id,
            "field": self.field,
            "message": self.message,
        }


@dataclass
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)


@transaction.atomic
def create_source(*, name: str, actor: User | None) -> Source:
    """A new event source with a fresh write key."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("This field is required.")})
    if Source.objects.filter(name__iexact=name).exists():
        raise ValidationError(
            {"name": ValidationError(_("A source with this name already exists."), code="unique")}
        )
    source = Source.objects.create(name=name[:100], created_by=actor)
    record_audit(actor=actor, action="usage.source_created", instance=source, changes={"name": source.name})
    return source


def ingest(
    *,
    source: Source,
    payloads: Sequence[Any],
    received_at: datetime | None = None,
    default_type: str | None = None,
    batch_sent_at: datetime | None = None,
) -> IngestResult:
    """Validate, de-duplicate and store a batch; the valid messages are stored even when others are not.

    Everything stored is committed before this returns, so the caller may acknowledge it.
    """
    received_at = received_at or timezone.now()
    result = IngestResult()
    messages: list[Message] = []
    for index, payload in enumerate(payloads):
        try:
            messages.append(
                parse_message(
                    payload, received_at=received_at, default_type=default_type, batch_sent_at=batch_sent_at
                )
            )
        except MessageError as error:
            message_id = payload.get("messageId", "") if isinstance(payload, dict) else ""
            result.rejected.append(Rejection(index, str(message_id)[:255], error.field, error.message))
    messages = usage_privacy.drop_blocked(messages)  # an erased person's ids: dropped, counted, not an error
    if not messages:
        return result
    # On SQLite the transaction takes the write lock at BEGIN (IMMEDIATE), so batches queue. On
    # PostgreSQL they run side by side: the unique key of ReceivedMessage decides between two copies
    # of one message, and a batch that loses a race (a deadlock, or two batches creating the same new
    # account or user) is rolled back whole and run again, finding the other's rows. Outside a
    # caller's transaction the batches of concurrent requests are written together (group_commit).
    prepared = store.prepare(source, messages, received_at=received_at)  # outside the lock
    if connection.in_atomic_block:  # the caller's transaction decides: write the batch in it
        with transaction.atomic():
            result.accepted, result.duplicates = _store(source, messages, prepared, received_at)
        return result
    result.accepted, result.duplicates = _GROUPS.submit(
        lambda: _store(source, messages, prepared, received_at)
    )
    return result


def _write_alone(job: group_commit.Job) -> None:
    """One batch in its own transaction, run again after a lost race on PostgreSQL (up to three times)."""
    attempts = 3
    for attempt in range(1, attempts + 1):
        try:
            with group_commit.writer_lock(), transaction.atomic():
                job.outcome = job.run()
            return
        except (OperationalError, IntegrityError) as error:
            if attempt == attempts or getattr(error.__cause__, "sqlstate", "") not in _RETRYABLE:
                raise


_GROUPS = group_commit.GroupCommit(alone=_write_alone)


# PostgreSQL: deadlock detected, serialization failure, unique violation (a concurrent insert won),
# a partition another batch created at the same moment.
_RETRYABLE = {"40P01", "40001", "23505", "42P07"}


def _store(
    source: Source, messages: list[Message], prepared: dict[str, tuple], received_at: datetime
) -> tuple[int, int]:
    """Claim, resolve and store the messages; returns (accepted, duplicates). Runs inside a transaction."""
    fresh_ids = store.claim_new(source, [m.message_id for m in messages], received_at=received_at)
    fresh = []
    for message in messages:
        if message.message_id in fresh_ids:
            fresh_ids.discard(message.message_id)  # a second copy inside the same batch is a duplicate too
            fresh.append(message)
    resolver = _Resolver(fresh, received_at=received_at)
    resolved = [resolver.resolve(message) for message in fresh]
    resolved = [resolver.settle(r) for r in resolved]
    accepted = store.append(prepared, resolved)
    zone = timezone.get_current_timezone()
    added: Counter[rollups.AddKey] = Counter(
        (
            r.account_id,
            r.message.timestamp.astimezone(zone).date(),
            rollups.event_name(r.message.type, r.message.event),
            rollups.person_of(r.message.user_id, r.message.anonymous_id),
        )
        for r in resolved
        if r.account_id is not None and r.message.type in rollups.USAGE_TYPES
    )
    rollups.mark_pending(resolver.touched, added=added)
    return accepted, len(messages) - len(fresh)


class _Resolver:
    """Applies identify/group/alias to people and accounts, and finds each event's account and contact.

    The people and accounts a batch names are read in two queries up front; track, page and screen
    calls (nearly all traffic) then resolve from memory. identify, group and alias write through the
    same maps, so a later message of the batch sees what an earlier one did.
    """

    def __init__(self, messages: list[Message], *, received_at: datetime) -> None:
        self.received_at = received_at
        user_ids = {m.user_id for m in messages if m.user_id} | {
            m.previous_id for m in messages if m.previous_id
        }
        group_ids = {m.group_id for m in messages if m.group_id}
        # Light maps for every id the batch names (all a track call needs) ...
        self.links: dict[str, tuple[int | None, int | None] | None] = dict.fromkeys(user_ids)
        for user_id, account_id, contact_id in _rows_for(
            ProductUser, ("user_id", "account_id", "contact_id"), "user_id", user_ids
        ):
            self.links[user_id] = (account_id, contact_id)
        self.account_ids: dict[str, int | None] = dict.fromkeys(group_ids)
        self.account_ids.update(_rows_for(Account, ("external_id", "id"), "external_id", group_ids))
        # ... and whole rows only for the ids that identify, group and alias calls change.
        changing = [m for m in messages if m.type in ("identify", "group", "alias")]
        changing_users = {m.user_id for m in changing if m.user_id} | {
            m.previous_id for m in changing if m.previous_id
        }
        changing_groups = {m.group_id for m in changing if m.type == "group"}
        self.users: dict[str, ProductUser | None] = dict.fromkeys(changing_users)
        self.accounts: dict[str, Account | None] = dict.fromkeys(changing_groups)
        if changing_users:
            self.users.update({u.user_id: u for u in ProductUser.objects.filter(user_id__in=changing_users)})
        if changing_groups:
            self.accounts.update(
                {cast(str, a.external_id): a for a in Account.objects.filter(external_id__in=changing_groups)}
            )
        self.touched: set[tuple[int, date]] = set()  # (account id, day) whose rollups need refreshing
        self.renamed: dict[str, str] = {}  # alias calls of this batch: previous id -> user id

    def settle(self, resolved: store.Resolved) -> store.Resolved:
        """Apply what later messages of the batch said to an earlier one, as the store does to stored events.

        A track call before its user's group (or alias) call in the same batch is not yet in the
        store when that call runs, so the group's attach and the alias's rename reach it here.
        """
        message = resolved.message
        renamed_user = self.renamed.get(message.user_id or message.anonymous_id) if self.renamed else None
        if renamed_user and (message.user_id or message.anonymous_id) != renamed_user:
            message = replace(message, user_id=renamed_user)
        if resolved.account_id is None and message.user_id:
            link = self.links.get(message.user_id)
            if link is not None and link[0] is not None:
                return store.Resolved(message=message, account_id=link[0], contact_id=link[1])
        if message is not resolved.message:
            return store.Resolved(
                message=message, account_id=resolved.account_id, contact_id=resolved.contact_id
            )
        return resolved

    def resolve(self, message: Message) -> store.Resolved:
        handler = getattr(self, f"_on_{message.type}", None)
        if handler is not None:
            handler(message)
        account_id = contact_id = None
        link = self._link(message.user_id) if message.user_id else None
        if link is not None:
            account_id, contact_id = link
        if message.group_id and message.type != "identify":
            group_account = self._account_id(message.group_id)
            if group_account is not None:
                if contact_id is not None and account_id != group_account:
                    contact_id = None  # the person is known at another account: keep the event, not the link
                account_id = group_account
        return store.Resolved(message=message, account_id=account_id, contact_id=contact_id)

    def _link(self, user_id: str) -> tuple[int | None, int | None] | None:
        if user_id not in self.links:  # an id the batch did not name up front (an alias target, say)
            row = ProductUser.objects.filter(user_id=user_id).values_list("account_id", "contact_id").first()
            self.links[user_id] = row if row else None  # values_list rows are tuples
        return self.links[user_id]

    def _account_id(self, group_id: str) -> int | None:
        if group_id not in self.account_ids:
            self.account_ids[group_id] = (
                Account.objects.filter(external_id=group_id).values_list("pk", flat=True).first()
            )
        return self.account_ids[group_id]

    def _remember(self, user: ProductUser) -> None:
        self.users[user.user_id] = user
        self.links[user.user_id] = (user.account_id, user.contact_id)

    # --- people -------------------------------------------------------------------------------

    @overload
    def _user(self, user_id: str, *, create: Literal[True]) -> ProductUser: ...
    @overload
    def _user(self, user_id: str, *, create: bool = False) -> ProductUser | None: ...
    def _user(self, user_id: str, *, create: bool = False) -> ProductUser | None:
        user = self.users.get(user_id)
        if user is None and user_id not in self.users:
            user = ProductUser.objects.filter(user_id=user_id).first()  # a name the batch did not list
        if user is None and create:
            user = ProductUser.objects.create(
                user_id=user_id, first_seen_at=self.received_at, last_seen_at=self.received_at
            )
        if user is not None:
            self._remember(user)
        else:
            self.users[user_id] = None
        return user

    def _on_identify(self, message: Message) -> None:
        if not message.user_id:
            return
        user = self._user(message.user_id, create=True)
        traits = message.traits
        user.traits = {**user.traits, **traits}
        user.email = _email(traits.get("email")) or user.email
        user.name = _name(traits) or user.name
        user.last_seen_at = max(user.last_seen_at, message.timestamp)
        user.save()
        if user.account_id is not None:
            self._ensure_contact(user)

    def _on_group(self, message: Message) -> None:
        account = self._account(message.group_id, traits=message.traits, create=True)
        if not message.user_id or account is None:
            return
        user = self._user(message.user_id, create=True)
        if user.account_id != account.pk:
            user.account = account
            user.contact = None
            user.save(update_fields=["account", "contact"])
            self._remember(user)
        contact = self._ensure_contact(user)
        days = store.attach_user_events(user_id=user.user_id, account_id=account.pk, contact_id=contact.pk)
        self.touched |= {(account.pk, day) for day in days}

    def _on_alias(self, message: Message) -> None:
        previous = self._user(message.previous_id)
        user = self._user(message.user_id, create=True)
        if previous is not None and previous.pk != user.pk:
            user.traits = {**previous.traits, **user.traits}
            user.email = user.email or previous.email
            user.name = user.name or previous.name
            user.account_id = user.account_id or previous.account_id
            user.first_seen_at = min(user.first_seen_at, previous.first_seen_at)
            contact = previous.contact
            previous.delete()
            self.users[message.previous_id] = None
            self.links[message.previous_id] = None
            if user.contact_id is None and contact is not None:
                user.contact = contact
            user.save()
            self._remember(user)
        # Two ids become one person: the days they touched are recounted whole.
        self.touched |= store.rename_user(previous_id=message.previous_id, user_id=message.user_id)
        self.renamed[message.previous_id] = message.user_id

    def _ensure_contact(self, user: ProductUser) -> Contact:
        """The account's contact for this product user, made or linked on first sight."""
        if user.account_id is None:  # the callers link the user to an account first
            raise ValueError(f"product user {user.user_id!r} has no account to be a contact at")
        contact: Contact | None
        if user.contact is not None and user.contact.account_id == user.account_id:
            contact = user.contact
            changes = {}
            if user.name and contact.name != user.name:
                changes["name"] = user.name
            if user.email and contact.email != user.email:
                changes["email"] = user.email
            if changes:
                try:
                    account_services.update_contact(contact=contact, actor=None, **changes)
                except ValidationError:
                    pass  # another contact of the account has that email: keep the event, skip the rename
            return contact
        contact = Contact.objects.filter(external_id=user.user_id).first()
        if contact is None and user.email:
            contact = Contact.objects.filter(account_id=user.account_id, email=user.email).first()
            if contact is not None and contact.external_id is None:
                contact.external_id = user.user_id
                contact.save(update_fields=["external_id"])
        if contact is None:
            assert user.account is not None  # account_id was checked above
            contact = account_services.create_contact(
                account=user.account,
                name=(user.name or user.email or user.user_id)[:200],
                email=user.email,
                external_id=user.user_id,
                roles=["user"],
                actor=None,
            )
        user.contact = contact
        user.save(update_fields=["contact"])
        self._remember(user)
        return contact

    # --- accounts -----------------------------------------------------------------------------

    def _account(self, group_id: str, *, traits: dict, create: bool = False) -> Account | None:
        account = self.accounts.get(group_id)
        if account is None and group_id not in self.accounts:
            account = Account.objects.filter(external_id=group_id).first()
        if account is None and create:
            account = account_services.create_account(
                name=_name(traits) or group_id,
                domain=_domain(traits),
                external_id=group_id,
                actor=None,
            )
        elif account is not None and create and traits:
            name = _name(traits)
            if name and name != account.name:
                account_services.update_account(account=account, actor=None, name=name)
        if account is not None:
            self.accounts[group_id] = account
            self.account_ids[group_id] = account.pk
        return account


def _rows_for(model, columns: tuple[str, ...], key: str, values: set[str]) -> list[tuple]:
    """SELECT columns FROM model's table WHERE key IN values: plain SQL, as this runs for every batch."""
    if not values:
        return []
    quote = connection.ops.quote_name
    table, names = quote(model._meta.db_table), ", ".join(quote(c) for c in columns)
    rows: list[tuple] = []
    ordered = sorted(values)
    if connection.vendor == "postgresql":  # one array parameter: psycopg does not re-parse a long statement
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {names} FROM {table} WHERE {quote(key)} = ANY(%s)", [ordered])
            return cursor.fetchall()
    with connection.cursor() as cursor:
        for start in range(0, len(ordered), 500):
            chunk = ordered[start : start + 500]
            cursor.execute(
                f"SELECT {names} FROM {table} WHERE {quote(key)} IN ({', '.join(['%s'] * len(chunk))})", chunk
            )
            rows += cursor.fetchall()
    return rows


def _email(value: Any) -> str:
    if not isinstance(value, str):
        return ""
    value = value.strip().lower()
    try:
        validate_email(value)
    except ValidationError:
        return ""
    return value


def _name(traits: dict) -> str:
    name = traits.get("name")
    if not isinstance(name, str) or not name.strip():
        parts = [traits.get("firstName"), traits.get("lastName")]
        name = " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip())
    return name.strip()[:200] if isinstance(name, str) else ""


def _domain(traits: dict) -> str:
    for key in ("website", "domain"):
        value = traits.get(key)
        if isinstance(value, str) and value.strip():
            try:
                return account_services.clean_domain(
                    re.sub(r"^www\.", "", value.strip().lower().split("//")[-1])
                )
            except ValidationError:
                return ""
    return ""
