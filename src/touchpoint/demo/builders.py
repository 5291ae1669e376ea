"""The demo company, built one step per domain.

`touchpoint demo` loads a whole customer-success company into an empty database: users for every
role, success frameworks, segments, accounts with parents and contacts, and a timeline of touches.
It is built by *steps*, each a function `run(ctx)` that one domain registers here:

    from touchpoint.demo.builders import DemoContext, step

    @step("subscriptions", after=("accounts",))
    def subscriptions(ctx: DemoContext) -> None:
        for demo_account in ctx.accounts:
            ...  # read ctx.rng, ctx.faker(locale), ctx.anchor; write with ctx.bulk_create / insert_rows

This package is only the runner: every step lives in the app that owns its data, in a `demo.py`
module of its package ("people" in users/demo.py, "accounts" in accounts/demo.py with "timeline" in
accounts/demo_timeline.py, "success" in success/demo.py, then usage, revenue, health…);
`load_steps` imports those modules the way the admin finds `admin.py`. Steps run in the order their
`after` names ask for, ties broken by registration order. An app whose rows the demo company
creates also registers them with `register_data` (what `--reset` deletes and what makes a database
"not empty"). The runner imports no domain app.

What a step may rely on:

- **Determinism.** The same seed and anchor date give the same company, row for row. Before each
  step `ctx.rng` becomes a fresh `random.Random` and every `ctx.faker(locale)` is re-seeded, both
  from (seed, step name), so adding a step never changes what the other steps make. Never use the
  global `random`, `timezone.now()` or database ids to decide anything.
- **Speed.** Rows are written in batches inside one transaction, not through the services one row
  at a time: `ctx.bulk_create` for model instances a later step needs, `ctx.insert_rows` (COPY on
  PostgreSQL) for the big tables; 10,000 accounts with 225,000 timeline entries load in about 20 s.
  A step that bypasses a service writes exactly what the service would have written: the row, its
  timeline entry (same kind, subject, title and data) and its role rows. The handful of users go
  through the services. The audit log gets one entry for the whole load (see `build`), not one
  per generated row: nobody changed those rows by hand.
- **The story so far.** `ctx.accounts` holds a `DemoAccount` per account (the saved `Account`, its
  script/locale, its contacts with their roles, and `fit`: how well the customer suits the product,
  0–1, which later steps use so usage, tickets and renewals tell one coherent story). Anything else
  steps pass on goes in `ctx.shared`, a dict keyed by the name of the step that wrote it (e.g.
  `ctx.shared["success"]["frameworks"]`).
- **The window.** Everything happens between `ctx.start` (`days` before the anchor) and `ctx.end`
  (the anchor date at midnight, in the current time zone); nothing lies in the future.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any, TypeVar, cast

from django.apps import apps
from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.options import Options
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext as _

from touchpoint.bulk import copy_in

if TYPE_CHECKING:  # the runner imports no domain app; steps import it
    from faker import Faker

    from touchpoint.accounts.models import Account, Contact, Segment
    from touchpoint.users.models import User

# Demo-only credentials, printed by the command and documented in the README. Never a real password.
DEMO_PASSWORD = "touchpoint-demo"
DEMO_EMAIL_DOMAIN = "demo.touchpoint.local"

# The scripts the demo company's customers write in: Latin, Japanese, Cyrillic and Thai.
LOCALES: tuple[str, ...] = ("en_US", "ja_JP", "ru_RU", "th_TH")

# Rows per INSERT. SQLite lowers it further to stay under its 999 parameters per statement.
BATCH_SIZE = 2000

ModelT = TypeVar("ModelT", bound=models.Model)

# Fields whose Python values need the database's form before a raw INSERT (dates, JSON, decimals…).
_CONVERTED_FIELDS = (
    models.DateTimeField,
    models.DateField,
    models.TimeField,
    models.JSONField,
    models.DecimalField,
    models.UUIDField,
    models.DurationField,
    models.BinaryField,
)


@dataclass
class DemoLogin:
    """A demo user and the password the command prints for them."""

    user: User
    role: str
    password: str
    role_label: str | Promise = ""


@dataclass
class DemoContact:
    contact: Contact
    roles: list[str]
    locale: str


@dataclass
class DemoAccount:
    """One generated account and what later steps need to know about it."""

    account: Account
    locale: str
    fit: float  # 0 = a poor fit who will struggle and may churn, 1 = a model customer
    contacts: list[DemoContact] = field(default_factory=list)
    churned_on: date | None = None  # set by the revenue step; later steps stop the account's activity there
    parent: DemoAccount | None = None

    def contacts_with(self, role: str) -> list[DemoContact]:
        return [c for c in self.contacts if role in c.roles]


@dataclass
class DemoContext:
    """What every step reads and adds to."""

    seed: int
    days: int
    account_count: int
    anchor: date
    tz: tzinfo
    rng: random.Random = field(default_factory=random.Random)
    fakers: dict[str, Faker] = field(default_factory=dict)
    logins: list[DemoLogin] = field(default_factory=list)
    users: dict[str, User] = field(default_factory=dict)  # by key: "admin", "leader", "pool", "csm:<n>"
    shared: dict[str, Any] = field(default_factory=dict)  # what steps pass on, by the step's name
    segments: dict[str, Segment] = field(default_factory=dict)
    accounts: list[DemoAccount] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    seconds: dict[str, float] = field(default_factory=dict)  # time each step took

    @property
    def end(self) -> datetime:
        """The anchor date at midnight: the first moment not generated."""
        return datetime.combine(self.anchor, datetime.min.time(), tzinfo=self.tz)

    @property
    def start(self) -> datetime:
        return self.end - timedelta(days=self.days)

    def at(self, day: date, hour: int, minute: int = 0) -> datetime:
        """A moment of a day in the current time zone."""
        return datetime.combine(day, datetime.min.time().replace(hour=hour, minute=minute), tzinfo=self.tz)

    def faker(self, locale: str) -> Faker:
        return self.fakers[locale]

    def seed_for(self, step_name: str) -> None:
        """Give the step its own random streams, derived from the seed and the step's name only."""
        self.rng = random.Random(f"touchpoint-demo:{self.seed}:{step_name}")
        for locale, faker in self.fakers.items():
            faker.seed_instance(f"touchpoint-demo:{self.seed}:{step_name}:{locale}")

    def bulk_create(
        self,
        model: type[ModelT],
        objects: Sequence[ModelT],
        *,
        count_as: str | None = None,
    ) -> list[ModelT]:
        """Insert model instances in batches; they come back with their ids set."""
        created = model._default_manager.bulk_create(objects, batch_size=BATCH_SIZE)
        self.counts[count_as or model._meta.label_lower] += len(created)
        return created

    def insert_rows(
        self,
        model: type[models.Model],
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        *,
        return_ids: bool = False,
        count_as: str | None = None,
    ) -> list[int]:
        """Insert rows of plain values: the fast path for the biggest tables.

        `bulk_create` spends most of its time turning model instances into SQL values (and, on
        PostgreSQL, quoting them client-side); for hundreds of thousands of engagements and timeline
        entries this takes tuples instead and sends them with COPY on PostgreSQL, multi-row
        INSERTs elsewhere. `columns` must name every column but the id, by attname ("account_id"),
        so nothing silently misses a default the ORM would have filled in; values are what the
        ORM takes (aware datetimes, dicts for JSON). With `return_ids`, the new ids come back in the
        rows' order.
        """
        opts = model._meta
        fields = [cast(models.Field, opts.get_field(column)) for column in columns]  # checked just below
        expected = {field.attname for field in opts.concrete_fields if not field.primary_key}
        if [field.attname for field in fields] != list(columns) or set(columns) != expected:
            raise ValueError(f"Give every column of {opts.label} but the id, by attname: {sorted(expected)}.")
        database = connections[DEFAULT_DB_ALIAS]  # the connection itself, not the per-thread proxy
        converters = [_converter(field, database) for field in fields]
        if database.vendor == "postgresql":
            ids = _copy_rows(database, opts, fields, converters, rows, return_ids=return_ids)
        else:
            ids = _insert_values(database, opts, fields, converters, rows, return_ids=return_ids)
        self.counts[count_as or opts.label_lower] += len(rows)
        return ids


def _converter(field: models.Field, database: BaseDatabaseWrapper) -> Callable[[Any], Any] | None:
    """How a raw INSERT must pass a value of this field; None when the Python value goes as it is."""
    if isinstance(field, models.DateTimeField):

        def adapt_datetime(value: datetime | None) -> Any:
            if value is not None and timezone.is_naive(value):
                raise ValueError(f"{field} needs an aware datetime, got {value}.")
            return database.ops.adapt_datetimefield_value(value)

        return adapt_datetime
    if isinstance(field, _CONVERTED_FIELDS):
        return lambda value: field.get_db_prep_save(value, database)
    return None


def _insert_values(
    database: BaseDatabaseWrapper,
    opts: Options,
    fields: list[models.Field],
    converters: list[Callable[[Any], Any] | None],
    rows: Sequence[Sequence[Any]],
    *,
    return_ids: bool,
) -> list[int]:
    """INSERT … VALUES (…), (…) … [RETURNING id], as many rows per statement as the backend allows."""
    quote = database.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    head = f"INSERT INTO {quote(opts.db_table)} ({columns}) VALUES "
    row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
    tail = f" RETURNING {quote(opts.pk.column)}" if return_ids else ""
    batch = max(1, min(BATCH_SIZE, database.ops.bulk_batch_size(fields, rows)))
    ids: list[int] = []
    with database.cursor() as cursor:
        for start in range(0, len(rows), batch):
            chunk = rows[start : start + batch]
            params = [
                value if convert is None else convert(value)
                for row in chunk
                for value, convert in zip(row, converters, strict=True)
            ]
            cursor.execute(head + ", ".join([row_sql] * len(chunk)) + tail, params)
            if return_ids:
                ids.extend(returned[0] for returned in cursor.fetchall())
    return ids


def _copy_rows(
    database: BaseDatabaseWrapper,
    opts: Options,
    fields: list[models.Field],
    converters: list[Callable[[Any], Any] | None],
    rows: Sequence[Sequence[Any]],
    *,
    return_ids: bool,
) -> list[int]:
    """PostgreSQL's COPY, its fastest way in; ids, when wanted, are taken from the sequence first."""
    values = (
        [value if convert is None else convert(value) for value, convert in zip(row, converters, strict=True)]
        for row in rows
    )
    return copy_in(database, opts, [field.column for field in fields], values, len(rows), number=return_ids)


TIMELINE_COLUMNS = (
    "account_id",
    "kind",
    "occurred_at",
    "title",
    "body",
    "actor_id",
    "subject_type_id",
    "subject_id",
    "data",
    "created_at",
)


def timeline_row(
    *,
    account_id: int,
    kind: str,
    occurred_at: datetime,
    title: str,
    subject_type_id: int | None,
    subject_id: int | None,
    data: dict[str, Any],
    actor_id: int | None = None,
    body: str = "",
    recorded_at: datetime | None = None,
) -> tuple:
    """A TimelineEntry row for `insert_rows(TimelineEntry, TIMELINE_COLUMNS, …)` as `record_on_timeline`
    writes it: the title cut to 255 characters; recorded when it happened unless said otherwise."""
    return (
        account_id,
        kind,
        occurred_at,
        title[:255],
        body,
        actor_id,
        subject_type_id,
        subject_id,
        data,
        recorded_at or occurred_at,
    )


# --- The step registry ------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    name: str
    run: Callable[[DemoContext], None]
    after: tuple[str, ...]


_STEPS: dict[str, Step] = {}


def step(
    name: str, *, after: Iterable[str] = ()
) -> Callable[[Callable[[DemoContext], None]], Callable[[DemoContext], None]]:
    """Register a function as the demo step `name`, to run after the steps named in `after`."""

    def register(run: Callable[[DemoContext], None]) -> Callable[[DemoContext], None]:
        _STEPS[name] = Step(name=name, run=run, after=tuple(after))
        return run

    return register


def load_steps() -> None:
    """Import every installed app's `demo` module (which registers its steps and data)."""
    autodiscover_modules("demo")


# --- What the demo company writes, for --reset and the empty-database check --------------------


@dataclass(frozen=True)
class DemoData:
    key: str
    label: str | Promise  # shown to people, e.g. "success frameworks"
    count: Callable[[], int]
    delete: Callable[[], Any]
    order: int


_DATA: dict[str, DemoData] = {}

# Context managers the whole build runs inside (in its transaction), registered by the apps that need
# one: the users app lifts the audit log's triggers so the steps may date the entries they wrote.
_BUILD_WRAPPERS: list[Callable[[], AbstractContextManager[Any]]] = []


def register_build_wrapper(wrapper: Callable[[], AbstractContextManager[Any]]) -> None:
    if wrapper not in _BUILD_WRAPPERS:
        _BUILD_WRAPPERS.append(wrapper)


def register_data(
    key: str,
    *,
    label: str | Promise,
    count: Callable[[], int],
    delete: Callable[[], Any],
    order: int = 100,
) -> None:
    """Declare rows the demo company creates: `count` says how many exist, `delete` removes them all
    (run in `order`, lowest first: delete what points at others before what they point at)."""
    _DATA[key] = DemoData(key=key, label=label, count=count, delete=delete, order=order)


def registered_data() -> list[DemoData]:
    load_steps()
    return sorted(_DATA.values(), key=lambda data: (data.order, data.key))


def ordered_steps() -> list[Step]:
    """The registered steps, each after the steps it names; otherwise in registration order."""
    pending = list(_STEPS.values())
    done: set[str] = set()
    ordered: list[Step] = []
    while pending:
        for candidate in pending:
            missing = [name for name in candidate.after if name not in _STEPS]
            if missing:
                raise LookupError(f"Demo step {candidate.name!r} runs after unknown steps {missing}.")
            if all(name in done for name in candidate.after):
                ordered.append(candidate)
                done.add(candidate.name)
                pending.remove(candidate)
                break
        else:
            raise ValueError(f"Demo steps wait on each other: {[s.name for s in pending]}.")
    return ordered


# --- Building ---------------------------------------------------------------------------------


def existing_data() -> dict[str, int]:
    """What the database already holds that the demo company would clash with (empty when none)."""
    found = {data.key: data.count() for data in registered_data()}
    return {what: count for what, count in found.items() if count}


def data_labels() -> dict[str, str | Promise]:
    return {data.key: data.label for data in registered_data()}


@transaction.atomic
def reset() -> None:
    """Delete everything the registered demo data covers (accounts with all hanging off them,
    segments, frameworks, demo users…)."""
    counts = existing_data()
    for data in registered_data():
        data.delete()
    _audit("demo.reset", "Data deleted to load the demo company", {"deleted": counts})


def _audit(action: str, description: str, changes: dict[str, Any]) -> None:
    # One entry for the whole load or reset, by no one: the generated rows were never edited by hand.
    apps.get_model("users", "AuditLogEntry").objects.create(
        action=action, object_type="demo.company", object_repr=description, changes=changes
    )


def _consumers_past_the_history() -> None:
    """Every event consumer a step placed stands past every event the demo wrote, also those of steps
    that ran after it: the demo's history is not news, a worker started afterwards replays none of it."""
    newest = apps.get_model("events", "DomainEvent").objects.order_by("-transaction_id", "-id").first()
    if newest is not None:
        apps.get_model("events", "ConsumerPosition").objects.update(
            transaction_id=newest.transaction_id, event_id=newest.pk
        )


def _refresh_planner_statistics() -> None:
    """Let PostgreSQL's planner see the rows a step just wrote, before later steps query them.

    The whole load is one transaction, so autovacuum cannot analyse it. A table autovacuum last saw
    empty (0 rows on N pages) is planned as holding a single row: the health step's scoring query then
    nests loops over thousands of rows and a 4-second load takes minutes. ANALYZE inside the
    transaction counts the rows this transaction inserted.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


class DemoError(Exception):
    """The demo company cannot be built here (the message says why)."""


def build(*, seed: int = 42, accounts: int = 300, days: int = 540, anchor: date | None = None) -> DemoContext:
    """Generate the demo company into the database in one transaction, step by step."""
    if not connection.features.can_return_rows_from_bulk_insert:
        # Steps link rows by the ids bulk inserts return (SQLite 3.35+, PostgreSQL).
        raise DemoError(
            _(
                "The demo company needs a database that returns ids from bulk inserts "
                "(SQLite 3.35 or newer, or PostgreSQL)."
            )
        )
    from faker import Faker  # here, not at the top: every process imports this module, few build a demo

    load_steps()
    context = DemoContext(
        seed=seed,
        days=days,
        account_count=accounts,
        anchor=anchor or timezone.localdate(),
        tz=timezone.get_current_timezone(),
        fakers={locale: Faker(locale) for locale in LOCALES},
    )
    # The steps date what they wrote, audit entries included, to when it happened in the demo's past:
    # apps whose tables refuse that (the audit log's triggers) lift it for this one transaction.
    with transaction.atomic(), ExitStack() as wrappers:
        for wrapper in _BUILD_WRAPPERS:
            wrappers.enter_context(wrapper())
        for demo_step in ordered_steps():
            context.seed_for(demo_step.name)
            started = time.perf_counter()
            demo_step.run(context)
            _refresh_planner_statistics()
            context.seconds[demo_step.name] = time.perf_counter() - started
        _consumers_past_the_history()
        _audit(
            "demo.load",
            f"Demo company (seed {seed})",
            {"seed": seed, "days": days, "anchor": context.anchor.isoformat(), "rows": dict(context.counts)},
        )
    return context
