"""What each kind of import reads and how it writes: a registry other apps add their kinds to.

An importer declares its fields (with the column names CRM exports use for them), turns one row into
clean values or a problem naming the column, and upserts one row on its external ID through the
services, so the timeline and the audit log see an import as they see a change by hand.

Accounts and contacts are defined here (the bottom of the app graph); a domain app registers its own
kind from its AppConfig.ready() with the helpers below (revenue/imports.py: subscriptions).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Generic, TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db.models import Model
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from touchpoint.accounts import bulk_services
from touchpoint.accounts import services as accounts
from touchpoint.accounts.models import Account, Contact, ContactRole, EngagementModel, Segment
from touchpoint.bulk import any_of
from touchpoint.integrations.csv_import.values import BadValue, parse_amount, parse_date
from touchpoint.users.models import User
from touchpoint.users.permissions import can


class RowProblem(Exception):
    def __init__(self, field: str, message: str, row: int | None = None) -> None:
        super().__init__(message)
        self.field, self.message = field, message
        self.row = row  # set when the problem is not about the row being read (a group of rows, the file)


def normalise(name: str) -> str:
    """Column names compared without case, spaces or punctuation: "Account Name" = "account_name"."""
    return re.sub(r"[\W_]+", "", name.lower())


@dataclass(frozen=True)
class Field:
    name: str
    label: Any
    aliases: tuple[str, ...] = ()
    required: bool = False

    def matches(self, column: str) -> bool:
        key = normalise(column)
        return key == normalise(self.name) or key in {normalise(a) for a in self.aliases}


@dataclass
class Lookups:
    """Caches for references, shared by every row of a run (and checked against the file's own ids)."""

    users: dict[str, int | None] = field(default_factory=dict)
    segments: dict[str, int | None] = field(default_factory=dict)
    accounts: dict[str, int | None] = field(default_factory=dict)
    in_file: set[str] = field(default_factory=set)  # external ids the file itself defines (parents)
    deferred_parents: list[tuple[str, str]] = field(default_factory=list)  # (child, parent) defined later on
    existing: dict[str, Any] = field(default_factory=dict)  # this chunk's rows already in the database
    instances: dict[tuple[type, int], Any] = field(default_factory=dict)
    # What an importer keeps from one chunk to the next of the run (one transaction), by its own key.
    memo: dict[str, Any] = field(default_factory=dict)

    def instance(self, model: type[Model], pk: int):
        """A referenced row (owner, segment), fetched once per run."""
        key = (model, pk)
        if key not in self.instances:
            self.instances[key] = model._default_manager.get(pk=pk)
        return self.instances[key]

    def warm_instances(self, model: type[Model], pks: Iterable[int]) -> None:
        """Fetch these rows in one query, for `instance` to answer from memory."""
        missing = {pk for pk in pks if (model, pk) not in self.instances}
        if missing:
            for pk, found in model._default_manager.filter(any_of("pk", missing)).in_bulk().items():
                self.instances[(model, pk)] = found

    def warm_accounts(self, values: Iterable[str]) -> None:
        """Read the accounts these values name by external ID in one query, for `account` to answer
        from memory; a value that is no external ID is left to `account` (which tries the name)."""
        keys = {value.strip() for value in values if value and value.strip()} - set(self.accounts)
        if keys:
            for external_id, pk in Account.objects.filter(any_of("external_id", keys)).values_list(
                "external_id", "pk"
            ):
                self.accounts[external_id or ""] = pk

    def user(self, value: str) -> int | None:
        key = value.strip().lower()
        if key not in self.users:
            found = (
                User.objects.filter(email__iexact=key).values_list("pk", flat=True).first()
                if "@" in key
                else User.objects.filter(full_name__iexact=value.strip()).values_list("pk", flat=True).first()
            )
            self.users[key] = found
        return self.users[key]

    def segment(self, value: str) -> int | None:
        key = value.strip().lower()
        if key not in self.segments:
            self.segments[key] = (
                Segment.objects.filter(name__iexact=value.strip()).values_list("pk", flat=True).first()
            )
        return self.segments[key]

    def account(self, value: str) -> int | None:
        """An account by external ID, or else by exact name (HubSpot's "Associated Company")."""
        key = value.strip()
        if key not in self.accounts:
            found = Account.objects.filter(external_id=key).values_list("pk", flat=True).first()
            if found is None:
                named = list(Account.objects.filter(name=key).values_list("pk", flat=True)[:2])
                found = named[0] if len(named) == 1 else None
            self.accounts[key] = found
        return self.accounts[key]


Records = Callable[
    [], Iterator[tuple[int, dict[str, str]]]
]  # (row number, {field: raw value}), anew each call


@dataclass(frozen=True)
class Shape:
    """How a file lays out its records, when an importer reads more than one layout.

    `grouped`: several rows make one record (the billing periods of one subscription): rows are
    cleaned one by one, then gathered by `Importer.group_key` and written a group at a time.
    `refusal`: (row, field, message) when the layout cannot be told for sure: nothing is read.
    """

    key: str
    label: Any
    grouped: bool = False
    refusal: tuple[int, str, str] | None = None


Group = list[tuple[int, dict]]  # the cleaned rows of one record, with their row numbers


@dataclass
class Importer:
    kind: str
    label: Any
    fields: list[Field]
    clean: Callable[[dict[str, str], Lookups, dict], dict]
    apply: Callable[[dict, Lookups, User | None], str]  # "created", "updated" or "unchanged"
    date_fields: tuple[str, ...] = ()
    model: type[Model] | None = (
        None  # rows upserted on external_id: fetched a chunk at a time into Lookups.existing
    )
    # Importers that read more than one layout: the layout a file has, from its mapped fields and rows.
    shape: Callable[[Records, set[str], dict], Shape] | None = None
    # For a grouped layout: the record a cleaned row belongs to, the problems of one record's rows
    # (RowProblems with their row), and the write of all records (yields each record's outcome;
    # raises RowProblem with its row).
    group_key: Callable[[dict], str] | None = None
    check_group: Callable[[Group, dict], list[RowProblem]] | None = None
    apply_groups: Callable[[dict[str, Group], Lookups, User | None, dict], Iterator[str]] | None = None
    # The write of a chunk of rows at once through the bulk services (a few statements per table for
    # the chunk, not a few per row): its (row number, cleaned values) in file order → each row's
    # outcome or RowProblem, in the same order. Without it (or in runner.run(per_row=True), the
    # reference the bulk write is tested against), `apply` writes one row at a time.
    apply_chunk: Callable[[Group, Lookups, User | None], list[str | RowProblem]] | None = None

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)

    def guess_mapping(self, header: list[str]) -> dict[str, str]:
        """Target field → the file column that looks like it (the first that matches)."""
        mapping: dict[str, str] = {}
        for target in self.fields:
            for column in header:
                if target.matches(column) and column not in mapping.values():
                    mapping[target.name] = column
                    break
        return mapping


IMPORTERS: dict[str, Importer] = {}


def register(importer: Importer) -> Importer:
    IMPORTERS[importer.kind] = importer
    return importer


# --- Helpers for the clean functions ----------------------------------------------------------


def text(row: dict[str, str], name: str, max_length: int = 200) -> str:
    value = (row.get(name) or "").strip()
    if len(value) > max_length:
        raise RowProblem(name, _("Longer than %(n)s characters.") % {"n": max_length})
    return value


def required(row: dict[str, str], name: str, max_length: int = 200) -> str:
    value = text(row, name, max_length)
    if not value:
        raise RowProblem(name, _("Required, but empty."))
    return value


def date_value(row: dict[str, str], name: str, context: dict) -> date | None:
    value = (row.get(name) or "").strip()
    if not value:
        return None
    try:
        return parse_date(value, day_first=context.get("day_first", {}).get(name))
    except BadValue:
        raise RowProblem(
            name, _("“%(value)s” is not a date (use e.g. 2026-03-01).") % {"value": value}
        ) from None


def amount(row: dict[str, str], name: str) -> Decimal | None:
    value = (row.get(name) or "").strip()
    if not value:
        return None
    try:
        amount = parse_amount(value)
    except BadValue:
        raise RowProblem(
            name, _("“%(value)s” is not an amount (use e.g. 1234.50).") % {"value": value}
        ) from None
    if amount < 0:
        raise RowProblem(name, _("Cannot be negative."))
    return amount.quantize(Decimal("0.01"))


def integer(row: dict[str, str], name: str) -> int | None:
    value = (row.get(name) or "").strip().replace(",", "").replace(" ", "")
    if not value:
        return None
    if not value.isdecimal():
        raise RowProblem(name, _("“%(value)s” is not a whole number.") % {"value": row.get(name)})
    return int(value)


def boolean(row: dict[str, str], name: str) -> bool | None:
    value = (row.get(name) or "").strip().lower()
    if not value:
        return None
    if value in {"1", "true", "yes", "y", "on", "はい", "да", "ใช่"}:
        return True
    if value in {"0", "false", "no", "n", "off", "いいえ", "нет", "ไม่"}:
        return False
    raise RowProblem(name, _("“%(value)s” is not yes or no.") % {"value": row.get(name)})


def service_problem(error: ValidationError, fallback: str) -> RowProblem:
    if hasattr(error, "message_dict"):
        name, messages = next(iter(error.message_dict.items()))
        return RowProblem(name if name != "__all__" else fallback, " ".join(messages))
    return RowProblem(fallback, " ".join(error.messages))


def require_row(actor: User | None, perm: str, obj: Any, field: str) -> None:
    """The one permission check, per row: a row outside the actor's book is a problem, not a write.

    The import pages are for leaders and admins (who may change every account); this keeps an
    importer called with anyone else (a script, a later role) inside that person's book.
    """
    if actor is not None and not can(actor, perm, obj):
        raise RowProblem(field, _("You may not change this account (it is not in your book)."))


New = TypeVar("New")


class PendingCreates(Generic[New]):
    """The new rows of a chunk, gathered for one call of a bulk create service and written before any
    row that must see them (an update of an existing row, written one at a time after them).

    `create(news)` returns, in order, each made row or the ValidationError that kept it out;
    `problem_of` turns that error into the row's problem. Outcomes land in `outcomes` by index."""

    def __init__(
        self,
        outcomes: list[str | RowProblem | None],
        create: Callable[[list[New]], Sequence[Any]],
        problem_of: Callable[[ValidationError], RowProblem],
    ) -> None:
        self.outcomes, self.create, self.problem_of = outcomes, create, problem_of
        self.pending: list[tuple[int, New]] = []

    def add(self, index: int, new: New) -> None:
        self.pending.append((index, new))

    def flush(self) -> None:
        if not self.pending:
            return
        made = self.create([new for _index, new in self.pending])
        for (index, _new), outcome in zip(self.pending, made, strict=True):
            self.outcomes[index] = (
                self.problem_of(outcome) if isinstance(outcome, ValidationError) else "created"
            )
        self.pending.clear()


# --- Accounts ---------------------------------------------------------------------------------

ENGAGEMENT = {normalise(str(label)): value for value, label in EngagementModel.choices} | {
    "high": "high",
    "low": "low",
    "hybrid": "hybrid",
    "hightouch": "high",
    "lowtouch": "low",
    "techtouch": "low",
}


def _clean_account(row: dict[str, str], lookups: Lookups, context: dict) -> dict:
    values: dict[str, Any] = {
        "external_id": required(row, "external_id", 128),
        "name": required(row, "name"),
    }
    domain = text(row, "domain", 253)
    try:
        values["domain"] = accounts.clean_domain(domain)
    except ValidationError:
        raise RowProblem(
            "domain", _("“%(value)s” is not a domain such as example.com.") % {"value": domain}
        ) from None
    if owner := text(row, "owner"):
        values["owner_id"] = lookups.user(owner)
        if values["owner_id"] is None:
            raise RowProblem(
                "owner", _("No user “%(value)s” (give their email or full name).") % {"value": owner}
            )
    if segment := text(row, "segment"):
        values["segment_id"] = lookups.segment(segment)
        if values["segment_id"] is None:
            raise RowProblem("segment", _("No segment named “%(value)s”.") % {"value": segment})
    if engagement := text(row, "engagement_model"):
        if normalise(engagement) not in ENGAGEMENT:
            raise RowProblem(
                "engagement_model", _("“%(value)s” is not high, low or hybrid.") % {"value": engagement}
            )
        values["engagement_model"] = ENGAGEMENT[normalise(engagement)]
    if parent := text(row, "parent", 128):
        if parent == values["external_id"]:
            raise RowProblem("parent", _("An account cannot be its own parent."))
        if parent not in lookups.in_file and lookups.account(parent) is None:
            raise RowProblem("parent", _("No account with external ID “%(value)s”.") % {"value": parent})
        values["parent"] = parent
    if (since := date_value(row, "customer_since", context)) is not None:
        try:
            accounts.check_customer_since(since)
        except ValidationError as error:
            raise service_problem(error, "customer_since") from None
        values["customer_since"] = since
    return values


def _apply_accounts(chunk: Group, lookups: Lookups, actor: User | None) -> list[str | RowProblem]:
    """_apply_account for a chunk of rows, through accounts.bulk_services: the same outcomes and writes.

    Rows are gathered and written together; a row whose parent is a new account of the same chunk,
    or whose parent changes, first has the rows before it written (as one at a time would find them).
    """
    refs = {values["parent"] for _number, values in chunk if values.get("parent")}
    parents = dict(Account.objects.filter(any_of("external_id", refs)).values_list("external_id", "pk"))
    outcomes: list[str | RowProblem | None] = [None] * len(chunk)
    creates: list[tuple[int, bulk_services.NewAccount]] = []
    updates: list[tuple[int, Account, dict[str, Any]]] = []
    pending: set[str] = set()

    def flush() -> None:
        if creates:
            made = bulk_services.create_accounts(accounts=[new for _i, new in creates], actor=actor)
            for (index, _new), outcome in zip(creates, made, strict=True):
                if isinstance(outcome, Account):
                    outcomes[index] = "created"
                    if outcome.external_id in refs:
                        parents[outcome.external_id] = outcome.pk
                else:
                    outcomes[index] = _bulk_problem(outcome)
        if updates:
            done = bulk_services.update_accounts(
                updates=[(account, arguments) for _i, account, arguments in updates], actor=actor
            )
            for (index, _account, _arguments), outcome in zip(updates, done, strict=True):
                outcomes[index] = "updated" if isinstance(outcome, Account) else _bulk_problem(outcome)
        creates.clear()
        updates.clear()
        pending.clear()

    relations = {
        "owner_id": ("owner", User),
        "segment_id": ("segment", Segment),
        "parent_id": ("parent", Account),
    }
    for index, (_number, row) in enumerate(chunk):
        values = dict(row)
        parent_ref = values.pop("parent", None)
        if parent_ref in pending:
            flush()
        parent_id = parents.get(parent_ref) if parent_ref else None
        if parent_ref and parent_id is None:
            lookups.deferred_parents.append((values["external_id"], parent_ref))  # linked at the end
        wanted = {"name": values["name"], "domain": values.get("domain", "")}
        for optional in ("owner_id", "segment_id", "engagement_model", "customer_since"):
            if optional in values:
                wanted[optional] = values[optional]
        if parent_id is not None:
            wanted["parent_id"] = parent_id
        account = lookups.existing.get(values["external_id"])
        try:
            if account is None:
                require_row(actor, "accounts.add_account", None, "external_id")
            else:
                require_row(actor, "accounts.change_account", account, "external_id")
        except RowProblem as problem:
            outcomes[index] = problem
            continue
        if account is None:
            creates.append((index, bulk_services.NewAccount(external_id=values["external_id"], **wanted)))
            pending.add(values["external_id"])
            continue
        changes = {k: v for k, v in wanted.items() if _current(account, k) != v}
        if not changes:
            outcomes[index] = "unchanged"
            continue
        arguments = {k: v for k, v in changes.items() if k not in relations}
        for key, (name, model) in relations.items():
            if key in changes:
                arguments[name] = lookups.instance(model, changes[key])
        if "parent" in arguments:
            flush()  # its check walks the parents as written
        updates.append((index, account, arguments))
        if "parent" in arguments:
            flush()
    flush()
    return [outcome for outcome in outcomes if outcome is not None]


def _bulk_problem(error: ValidationError | PermissionDenied) -> RowProblem:
    if isinstance(error, PermissionDenied):
        return RowProblem("owner", str(error))
    raise error  # as _apply_account lets it through: the checks of the clean step keep it from happening


def _apply_account(values: dict, lookups: Lookups, actor: User | None) -> str:
    parent_ref = values.pop("parent", None)
    parent = Account.objects.filter(external_id=parent_ref).first() if parent_ref else None
    if parent_ref and parent is None:
        lookups.deferred_parents.append(
            (values["external_id"], parent_ref)
        )  # further down: linked at the end
    wanted = {"name": values["name"], "domain": values.get("domain", "")}
    for optional in ("owner_id", "segment_id", "engagement_model", "customer_since"):
        if optional in values:
            wanted[optional] = values[optional]
    if parent is not None:
        wanted["parent_id"] = parent.pk
    account = lookups.existing.get(values["external_id"])
    if account is None:
        require_row(actor, "accounts.add_account", None, "external_id")
    else:
        require_row(actor, "accounts.change_account", account, "external_id")
    try:
        return _write_account(account, wanted, values, lookups, actor)
    except PermissionDenied as error:
        raise RowProblem("owner", str(error)) from None


def _current(account: Account, field: str) -> Any:
    return accounts.customer_since_of(account) if field == "customer_since" else getattr(account, field)


def _write_account(
    account: Account | None, wanted: dict, values: dict, lookups: Lookups, actor: User | None
) -> str:
    relations = {
        "owner_id": ("owner", User),
        "segment_id": ("segment", Segment),
        "parent_id": ("parent", Account),
    }
    if account is None:
        arguments = {k: v for k, v in wanted.items() if k not in relations}
        for key, (name, model) in relations.items():
            if key in wanted:
                arguments[name] = lookups.instance(model, wanted[key])
        account = accounts.create_account(actor=actor, external_id=values["external_id"], **arguments)
        outcome = "created"
    else:
        changes = {k: v for k, v in wanted.items() if _current(account, k) != v}
        if not changes:
            outcome = "unchanged"
        else:
            arguments = {k: v for k, v in changes.items() if k not in relations}
            for key, (name, model) in relations.items():
                if key in changes:
                    arguments[name] = lookups.instance(model, changes[key])
            accounts.update_account(account=account, actor=actor, **arguments)
            outcome = "updated"
    return outcome


register(
    Importer(
        kind="accounts",
        label=gettext_lazy("Accounts"),
        clean=_clean_account,
        apply=_apply_account,
        apply_chunk=_apply_accounts,
        model=Account,
        fields=[
            Field(
                "external_id",
                gettext_lazy("External ID"),
                ("Account ID", "Record ID", "Company ID", "ID", "Account External ID", "18 Digit Account ID"),
                True,
            ),
            Field("name", gettext_lazy("Name"), ("Account Name", "Company name", "Company", "Account"), True),
            Field("domain", gettext_lazy("Domain"), ("Website", "Company Domain Name", "Web site", "URL")),
            Field(
                "owner",
                gettext_lazy("Owner (email or name)"),
                ("Account Owner", "Company owner", "Owner Email", "Account Owner Email", "CSM", "Owner"),
            ),
            Field("segment", gettext_lazy("Segment"), ("Tier", "Customer Segment", "Segment name")),
            Field(
                "parent",
                gettext_lazy("Parent account external ID"),
                ("Parent Account ID", "Parent Company ID", "Parent ID", "Parent External ID"),
            ),
            Field("engagement_model", gettext_lazy("Engagement model"), ("Touch model", "Engagement")),
            Field(
                "customer_since",
                gettext_lazy("Customer since"),
                (
                    "Customer Since",
                    "Customer Since Date",
                    "Became a Customer Date",
                    "Customer Start Date",
                    "Start Date",
                    "Signup Date",
                    "Signed Up",
                ),
            ),
        ],
        date_fields=("customer_since",),
    )
)


# --- Contacts ---------------------------------------------------------------------------------

ROLES = {normalise(str(label)): value for value, label in ContactRole.choices} | {
    normalise(value): value for value, _label in ContactRole.choices
}


def _clean_contact(row: dict[str, str], lookups: Lookups, context: dict) -> dict:
    values: dict[str, Any] = {"external_id": required(row, "external_id", 128)}
    account = required(row, "account", 200)
    values["account_id"] = lookups.account(account)
    if values["account_id"] is None:
        raise RowProblem(
            "account", _("No account with external ID (or name) “%(value)s”.") % {"value": account}
        )
    name = text(row, "name") or " ".join(p for p in (text(row, "first_name"), text(row, "last_name")) if p)
    email = text(row, "email", 254).lower()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise RowProblem("email", _("“%(value)s” is not an email address.") % {"value": email}) from None
    if not name and not email:
        raise RowProblem("name", _("Give a name (or first and last name) or an email."))
    values.update(name=name or email, email=email, title=text(row, "title"), phone=text(row, "phone", 50))
    roles = []
    for part in re.split(r"[,;/|]", text(row, "roles", 500)):
        if part.strip():
            if normalise(part) not in ROLES:
                raise RowProblem("roles", _("“%(value)s” is not a contact role.") % {"value": part.strip()})
            roles.append(ROLES[normalise(part)])
    if roles:
        values["roles"] = sorted(set(roles))
    return values


def _apply_contact(values: dict, lookups: Lookups, actor: User | None) -> str:
    contact = lookups.existing.get(values["external_id"])
    fields = {k: values[k] for k in ("name", "email", "title", "phone")}
    if contact is None:
        require_row(actor, "accounts.add_contact", lookups.instance(Account, values["account_id"]), "account")
    else:
        require_row(actor, "accounts.change_contact", contact, "external_id")
    try:
        if contact is None:
            accounts.create_contact(
                account=lookups.instance(Account, values["account_id"]),
                actor=actor,
                external_id=values["external_id"],
                roles=values.get("roles", ()),
                **fields,
            )
            return "created"
        changes = {k: v for k, v in fields.items() if getattr(contact, k) != v}
        if "roles" in values and sorted(contact.role_values) != values["roles"]:
            changes["roles"] = values["roles"]
        if not changes:
            return "unchanged"
        accounts.update_contact(contact=contact, actor=actor, **changes)
        return "updated"
    except ValidationError as error:
        raise service_problem(error, "email") from None


def _apply_contacts(chunk: Group, lookups: Lookups, actor: User | None) -> list[str | RowProblem]:
    """_apply_contact for a chunk of rows, the new contacts through accounts.bulk_services together; a
    row of a contact already there goes through update_contact as before, after the new ones before it
    are written (its email is checked against theirs)."""
    outcomes: list[str | RowProblem | None] = [None] * len(chunk)
    creates = PendingCreates[bulk_services.NewContact](
        outcomes,
        lambda news: bulk_services.create_contacts(contacts=news, actor=actor),
        lambda error: service_problem(error, "email"),
    )
    lookups.warm_instances(Account, {values["account_id"] for _number, values in chunk})

    for index, (_number, row) in enumerate(chunk):
        values = dict(row)
        if values["external_id"] in lookups.existing:
            creates.flush()
            try:
                outcomes[index] = _apply_contact(values, lookups, actor)
            except RowProblem as problem:
                outcomes[index] = problem
            continue
        try:
            require_row(
                actor, "accounts.add_contact", lookups.instance(Account, values["account_id"]), "account"
            )
        except RowProblem as problem:
            outcomes[index] = problem
            continue
        creates.add(
            index,
            bulk_services.NewContact(
                account_id=values["account_id"],
                external_id=values["external_id"],
                roles=values.get("roles", ()),
                **{k: values[k] for k in ("name", "email", "title", "phone")},
            ),
        )
    creates.flush()
    return [outcome for outcome in outcomes if outcome is not None]


register(
    Importer(
        kind="contacts",
        label=gettext_lazy("Contacts"),
        clean=_clean_contact,
        apply=_apply_contact,
        apply_chunk=_apply_contacts,
        model=Contact,
        fields=[
            Field(
                "external_id",
                gettext_lazy("External ID"),
                ("Contact ID", "Record ID", "ID", "Contact External ID"),
                True,
            ),
            Field(
                "account",
                gettext_lazy("Account external ID (or name)"),
                (
                    "Account ID",
                    "Associated Company ID",
                    "Company ID",
                    "Account External ID",
                    "Associated Company",
                    "Account Name",
                    "Company name",
                ),
                True,
            ),
            Field("name", gettext_lazy("Full name"), ("Full Name", "Contact Name", "Name")),
            Field("first_name", gettext_lazy("First name"), ("First Name",)),
            Field("last_name", gettext_lazy("Last name"), ("Last Name",)),
            Field("email", gettext_lazy("Email"), ("Email", "Email Address", "E-mail")),
            Field("title", gettext_lazy("Job title"), ("Title", "Job Title")),
            Field("phone", gettext_lazy("Phone"), ("Phone", "Phone Number", "Mobile", "Mobile Phone Number")),
            Field("roles", gettext_lazy("Roles"), ("Role", "Contact Roles")),
        ],
    )
)
