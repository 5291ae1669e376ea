"""Writing many rows of one model in a few statements, for the hot paths where `bulk_create` costs more
than the database does (the journeys engine's batches: step visits, outbox rows, tasks).

    ids = insert_rows(Task, [{"account_id": 7, "title": "Call", "due_on": day, ...}, ...], returning="id")

Each row is a dict of field names (or attnames, "account_id") to values; every row names the same
fields. Fields the rows do not name take the model's default (`default=`, computed once for them
all: `created_at` defaulting to now is the same moment for every row of the call), and
fields with a database default (`db_default=`) are left to the database. Values are adapted per
column as the ORM adapts them (moments, days, JSON); no model instance is built, no `save()` runs
and no signal is sent: what the caller would record around a save (audit, events) it writes itself.
One multi-row INSERT per chunk (SQLite allows 999 parameters a statement); with `returning`, that
column's values come back in the order of the rows, as `bulk_create` reads them back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

from django.db import connections, models
from django.db.models.constants import OnConflict

ROWS_PER_STATEMENT = 1000  # where the database sets no limit on parameters


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
    # Per column, how a row's value is read and adapted; a default is adapted once for every row (it
    # goes to the database as text or a number, so one value serves them all).
    readers: list[Callable[[Mapping[str, Any]], Any]] = []
    for field in fields:
        adapt = _adapter(field, connection)
        key = named.get(field.attname)
        if key is None:
            readers.append(partial(_constant, adapt(field.get_default())))
        else:
            readers.append(partial(_read, key, adapt))
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
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            params = [read(row) for row in chunk for read in readers]
            values = ", ".join([one] * len(chunk))
            cursor.execute(f"{insert} {table} ({columns}) VALUES {values}{back}", params)
            if returning is not None:
                found.extend(value for (value,) in cursor.fetchall())
    return found


def _adapter(field: Any, connection: Any) -> Callable[[Any], Any]:
    """How the ORM would hand this field's values to the database driver, without the ORM's per-value steps."""
    kind = field.get_internal_type()
    ops = connection.ops
    if kind == "DateTimeField":
        return _remembering(ops.adapt_datetimefield_value)
    if kind == "DateField":
        return _remembering(ops.adapt_datefield_value)
    if kind == "JSONField":
        encoder = getattr(field, "encoder", None)
        return lambda value: None if value is None else ops.adapt_json_value(value, encoder)
    if kind in ("CharField", "TextField", "SlugField", "EmailField", "URLField"):
        return lambda value: None if value is None else str(value)  # choices' enums as their text
    if kind in _PLAIN:
        return _as_is
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


def _read(key: str, adapt: Callable[[Any], Any], row: Mapping[str, Any]) -> Any:
    return adapt(row[key])


def _constant(value: Any, row: Mapping[str, Any]) -> Any:
    return value


def _as_is(value: Any) -> Any:
    return value


def _remembering(adapt: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`adapt`, answering at once for the value it was just given (a batch's rows share one moment)."""
    last: list[Any] = [object(), None]

    def remembered(value: Any) -> Any:
        if value is not last[0]:
            last[0], last[1] = value, adapt(value)
        return last[1]

    return remembered
