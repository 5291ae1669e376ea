"""Writing many rows of one model in a few statements, for the hot paths where `bulk_create` costs more
than the database does (the journeys engine's batches: step visits, outbox rows, tasks).

    ids = insert_rows(Task, [{"account_id": 7, "title": "Call", "due_on": day, ...}, ...], returning="id")

Each row is a dict of field names (or attnames, "account_id") to values; every row names the same
fields. Fields the rows do not name take the model's default (`default=`, computed once for them
all: `created_at` defaulting to now is the same moment for every row of the call), and
fields with a database default (`db_default=`) are left to the database. Values are adapted per
column as the ORM adapts them (moments, days, JSON); no model instance is built, no `save()` runs
and no signal is sent: what the caller would record around a save (audit, events) it writes itself.
One multi-row INSERT per chunk (SQLite allows 999 parameters a statement; one executemany when
nothing is returned); on PostgreSQL a COPY (the ids taken from the sequence first when they are to
be returned), or with `ignore_conflicts` or another column returned one array per column (INSERT …
SELECT FROM unnest). With `returning`, that column's values come back in the order of the rows, as
`bulk_create` reads them back.

`any_of(field, values)` is `field__in=values` for a long list of plain values (ids, external ids):
one parameter instead of one per value, so neither the ORM nor the driver handles each value.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from functools import partial
from operator import itemgetter
from typing import Any

import orjson
from django.db import connections, models
from django.db.models import F, Lookup
from django.db.models.constants import OnConflict

ROWS_PER_STATEMENT = 1000  # where the database sets no limit on parameters
UNNEST_ROWS_PER_STATEMENT = 5000  # PostgreSQL: rows per INSERT … SELECT FROM unnest(arrays)


def insert_rows(
    model: type[models.Model],
    rows: Sequence[Mapping[str, Any]],
    *,
    returning: str | None = None,
    ignore_conflicts: bool = False,
    using: str = "default",
) -> list[Any]:
    """INSERT the rows; returns the `returning` column's values in the rows' order (else []).

    `ignore_conflicts` skips a row that breaks a unique key, as bulk_create(ignore_conflicts=True)
    (then nothing can be returned: `returning` must be None).
    """
    if ignore_conflicts and returning is not None:
        raise ValueError("rows skipped on a conflict have nothing to return")
    if not rows:
        return []
    connection = connections[using]
    meta = model._meta
    given = list(rows[0])
    named = {meta.get_field(name).attname: name for name in given}  # type: ignore[union-attr]
    fields: list[Any] = []  # the concrete fields written
    for field in meta.concrete_fields:
        if field.primary_key and field.attname not in named:
            continue  # the database numbers it
        if field.attname not in named and field.has_db_default():  # type: ignore[attr-defined]
            continue  # the database fills it
        fields.append(field)
    # The columns the rows name come first, read in one C call per row (itemgetter) and adapted only
    # where the ORM would adapt them; then the defaulted columns, adapted once for every row (they go
    # to the database as text or a number, so one value serves them all).
    given_fields = [field for field in fields if field.attname in named]
    defaulted = [field for field in fields if field.attname not in named]
    fields = given_fields + defaulted
    keys = [named[field.attname] for field in given_fields]
    pk = meta.pk
    assert pk is not None
    copy = (
        connection.vendor == "postgresql"
        and not ignore_conflicts
        and (returning is None or (returning in (pk.name, pk.attname) and pk.attname not in named))
    )
    adapters = [(index, _adapter(field, connection, copy=copy)) for index, field in enumerate(given_fields)]
    adapters = [(index, adapt) for index, adapt in adapters if adapt is not _as_is]
    constants = [_adapter(field, connection, copy=copy)(field.get_default()) for field in defaulted]
    read = _reader(keys)
    table = connection.ops.quote_name(meta.db_table)
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    limit = connection.features.max_query_params
    per_statement = max(1, limit // len(fields)) if limit else ROWS_PER_STATEMENT
    insert = connection.ops.insert_statement(on_conflict=OnConflict.IGNORE if ignore_conflicts else None)
    back = ""
    if ignore_conflicts:
        suffix = connection.ops.on_conflict_suffix_sql(fields, OnConflict.IGNORE, None, None)
        back = f" {suffix}" if suffix else ""
    if returning is not None:
        back = " RETURNING " + connection.ops.quote_name(meta.get_field(returning).column)  # type: ignore[union-attr,arg-type]
    found: list[Any] = []
    if copy:
        return _copy_rows(
            connection, meta, fields, rows, read, adapters, constants, number=returning is not None
        )
    types = [field.db_type(connection) for field in fields]
    if connection.vendor == "postgresql" and all(types):
        # One array parameter per column (INSERT … SELECT FROM unnest, as Django's own bulk_create on
        # PostgreSQL): a short statement psycopg parses once, where a VALUES list of thousands of
        # placeholders was split again on every call.
        arrays = ", ".join(f"%s::{kind}[]" for kind in types)
        statement = f"{insert} {table} ({columns}) SELECT * FROM unnest({arrays}){back}"
        with connection.cursor() as cursor:
            for start in range(0, len(rows), UNNEST_ROWS_PER_STATEMENT):
                table_rows = [
                    _values(row, read, adapters) + constants
                    for row in rows[start : start + UNNEST_ROWS_PER_STATEMENT]
                ]
                cursor.execute(statement, [list(column) for column in zip(*table_rows, strict=True)])
                if returning is not None:
                    found.extend(value for (value,) in cursor.fetchall())
        return found
    if returning is None and connection.vendor == "sqlite":
        # One short statement run per row by the driver's executemany (prepared once): as fast as a
        # multi-row VALUES for SQLite, without Django turning thousands of `%s` into `?` per statement
        # (a regular expression over the whole text, as long as the insert itself on a wide table).
        with connection.cursor() as cursor:
            cursor.executemany(
                f"{insert} {table} ({columns}) VALUES {one}{back}",
                [_values(row, read, adapters) + constants for row in rows],
            )
        return []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            params: list[Any] = []
            for row in chunk:
                params += _values(row, read, adapters)
                params += constants
            placeholders = ", ".join([one] * len(chunk))
            cursor.execute(f"{insert} {table} ({columns}) VALUES {placeholders}{back}", params)
            if returning is not None:
                found.extend(value for (value,) in cursor.fetchall())
    return found


def _values(row: Mapping[str, Any], read: Callable, adapters: list) -> list[Any]:
    values = read(row)
    for index, adapt in adapters:
        values[index] = adapt(values[index])
    return values


def _copy_rows(
    connection: Any,
    meta: Any,
    fields: list[Any],
    rows: Sequence[Mapping[str, Any]],
    read: Callable,
    adapters: list,
    constants: list[Any],
    *,
    number: bool,
) -> list[Any]:
    values = (_values(row, read, adapters) + constants for row in rows)
    return copy_in(connection, meta, [field.column for field in fields], values, len(rows), number=number)


def copy_in(
    connection: Any,
    meta: Any,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    count: int,
    *,
    number: bool,
) -> list[Any]:
    """PostgreSQL: `count` rows (values ready for the driver, in `columns` order) by COPY, the fastest
    way in (psycopg writes each row in C). With `number`, the primary keys are taken from the table's
    sequence first, in one query (nextval never hands out an id twice, so rows others insert meanwhile
    cannot clash), written with the rows and returned in their order."""
    quote = connection.ops.quote_name
    ids: list[Any] = []
    with connection.cursor() as cursor:
        if number:
            # The sequence is looked up once (materialized): in the select list it was looked up
            # again for every id, five times the cost of the nextval itself.
            cursor.execute(
                "WITH sequence AS MATERIALIZED (SELECT pg_get_serial_sequence(%s, %s)::regclass AS name) "
                "SELECT nextval(sequence.name) FROM sequence, generate_series(1, %s)",
                [meta.db_table, meta.pk.column, count],
            )
            ids = [value for (value,) in cursor.fetchall()]
        names = ", ".join(quote(column) for column in ([meta.pk.column, *columns] if number else columns))
        # The driver's own cursor (Django's has no copy()); its errors become Django's, as an INSERT's would.
        with (
            connection.wrap_database_errors,
            cursor.cursor.copy(f"COPY {quote(meta.db_table)} ({names}) FROM STDIN") as copy,
        ):
            for index, values in enumerate(rows):
                copy.write_row([ids[index], *values] if number else values)
    return ids


def _adapter(field: Any, connection: Any, *, copy: bool = False) -> Callable[[Any], Any]:
    """How the ORM would hand this field's values to the database driver, without the ORM's per-value
    steps. `copy`: for PostgreSQL's COPY, where every value travels as text."""
    kind = field.get_internal_type()
    ops = connection.ops
    if kind == "DateTimeField":
        return _remembering(ops.adapt_datetimefield_value)
    if kind == "DateField":
        return _remembering(ops.adapt_datefield_value)
    if kind == "JSONField":
        dumps = partial(_dumps, getattr(field, "encoder", None))
        if connection.vendor == "postgresql" and not copy:
            from psycopg.types.json import Jsonb  # the wrapper the ORM hands psycopg for jsonb

            return lambda value: None if value is None else Jsonb(value, dumps=dumps)
        # SQLite stores the text; COPY hands jsonb its text as it is (the wrapper and psycopg's JSON
        # dumper cost more per value than the COPY of it).
        return lambda value: None if value is None else dumps(value)
    if kind in ("CharField", "TextField", "SlugField", "EmailField", "URLField"):
        return _text
    if kind in _PLAIN:
        return _as_is
    if kind == "DecimalField":
        # What the ORM hands the driver for a finite Decimal is that Decimal (it converts it twice
        # first: most of an import's cost per amount); anything else takes the ORM's way.
        def decimal(value: Any) -> Any:
            if value.__class__ is Decimal and value.is_finite():
                return value
            return field.get_db_prep_save(value, connection)

        return decimal
    return lambda value: field.get_db_prep_save(value, connection)


_PLAIN = frozenset(
    {
        "ForeignKey",
        "OneToOneField",
        "AutoField",
        "BigAutoField",
        "IntegerField",
        "BigIntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "PositiveBigIntegerField",
        "SmallIntegerField",
        "BooleanField",
    }
)


def _reader(keys: list[str]) -> Callable[[Mapping[str, Any]], list[Any]]:
    """A row's values for `keys`, as a new list."""
    if not keys:
        return lambda row: []
    if len(keys) == 1:
        key = keys[0]
        return lambda row: [row[key]]
    get = itemgetter(*keys)
    return lambda row: list(get(row))


def _as_is(value: Any) -> Any:
    return value


def _text(value: Any) -> Any:
    """Text as text; choices' enums (str subclasses the drivers may write by name) as their value."""
    if value.__class__ is str or value is None:
        return value
    return str(value)


class _NotPlainJSON(Exception):
    pass


def _plain(value: Any) -> Any:
    """What the json module writes for a subclass of str or int (an enum of choices): its value."""
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return int(value)
    raise _NotPlainJSON


# orjson writes what it knows natively (dict, list, str, int, float, bool, None) much faster than the
# json module the ORM uses, and str/int subclasses as their value as the json module does; anything
# else (a date, a Decimal, a dataclass) makes `_plain` refuse and the value goes the ORM's way instead,
# so what is stored means what the ORM stores.
_PASS_THROUGH = (
    orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_SUBCLASS
)


def _dumps(encoder: Any, value: Any) -> str:
    try:
        return orjson.dumps(value, default=_plain, option=_PASS_THROUGH).decode()
    except (_NotPlainJSON, TypeError):
        return json.dumps(value, cls=encoder)


def _remembering(adapt: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`adapt`, answering at once for the value it was just given (a batch's rows share one moment)."""
    last: list[Any] = [object(), None]

    def remembered(value: Any) -> Any:
        if value is not last[0]:
            last[0], last[1] = value, adapt(value)
        return last[1]

    return remembered


class AnyOf(Lookup):
    """`lhs IN values` with the values as ONE parameter: `= ANY(array)` on PostgreSQL, a JSON array read
    by `json_each` on SQLite. The ORM's `__in` prepares every value on its own and writes a placeholder
    each (split past SQLite's parameter limit), which on a chunk of 2,000 external ids costs more than
    the query; the values here must already be what the column holds (ints, text)."""

    lookup_name = "any_of"
    prepare_rhs = False  # the values go to the driver as they are

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = list(self.rhs)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s)", [*lhs_params, values]
        return f"{lhs} IN (SELECT value FROM json_each(%s))", [*lhs_params, orjson.dumps(values).decode()]


def any_of(field: str, values: Iterable[Any]) -> AnyOf:
    """A filter: `Model.objects.filter(any_of("external_id", ids))`, as `external_id__in=ids`."""
    return AnyOf(F(field), list(values))
