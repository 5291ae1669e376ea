"""Running an import: check every row first, then write them all in one transaction, or nothing.

Two passes over the file, each streaming it: the check pass cleans every row and collects problems
as "row N, column C: problem" (N counts the header as row 1, as spreadsheets number them); only a
file without problems gets the write pass, in one transaction, so a failure half-way leaves nothing
behind. A dry run makes the write pass too and rolls it back: its counts are exactly what an import
would do. Memory stays bounded: rows are never all held, only the set of external IDs seen (to catch
duplicates) and the first problems. An importer that reads more than one layout says which one a
file has first (`Importer.shape`), or refuses it; in a grouped layout (the billing periods of a
subscription) several rows make one record, so the cleaned rows are held from the check to the write.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.utils.translation import gettext as _

from touchpoint.accounts import services as accounts
from touchpoint.accounts.models import Account
from touchpoint.bulk import any_of
from touchpoint.collections_paused import collections_paused
from touchpoint.integrations.csv_import import reading
from touchpoint.integrations.csv_import.importers import IMPORTERS, Group, Importer, Lookups, RowProblem
from touchpoint.integrations.csv_import.values import day_first_from
from touchpoint.users.models import User

MAX_PROBLEMS = 200  # shown; the count covers all
CHUNK_ROWS = 2000  # a write pass's rows per chunk: one read of their existing rows, bulk writes
DAY_FIRST_SAMPLE = 2000
Progress = Callable[[str, int, int], None]  # (stage, rows done, rows in all or 0 if not known yet)


@dataclass
class Problem:
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return _("row %(row)s, column %(column)s: %(message)s") % {
            "row": self.row,
            "column": self.column or "—",
            "message": self.message,
        }


@dataclass
class Result:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    written: bool = False
    seconds: float = 0.0
    shape: str = ""  # how the file was read, for importers that read more than one layout
    shape_label: str = ""

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def as_dict(self) -> dict:
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "problems": [str(p) for p in self.problems],
            "problem_count": self.problem_count,
            "written": self.written,
            "seconds": round(self.seconds, 2),
            "shape": self.shape,
            "shape_label": self.shape_label,
        }


class BadMapping(ValueError):
    pass


def check_mapping(importer: Importer, header: list[str], mapping: dict[str, str]) -> list[str]:
    """Problems with a mapping of target fields to file columns (an empty list when it is usable)."""
    problems = []
    for target_name, column in mapping.items():
        if target_name not in {f.name for f in importer.fields}:
            problems.append(_("“%(field)s” is not a field of this import.") % {"field": target_name})
        elif column and column not in header:
            problems.append(_("The file has no column “%(column)s”.") % {"column": column})
    used = [c for c in mapping.values() if c]
    for column in {c for c in used if used.count(c) > 1}:
        problems.append(_("Column “%(column)s” is mapped to more than one field.") % {"column": column})
    for target in importer.fields:
        if target.required and not mapping.get(target.name):
            if importer.kind == "contacts" and target.name == "name":
                continue
            problems.append(_("Map a column to “%(field)s”: it is required.") % {"field": target.label})
    if importer.kind == "subscriptions" and not (
        mapping.get("mrr") or mapping.get("arr") or mapping.get("amount")
    ):
        problems.append(_("Map a column to MRR, to ARR or to the amount of each billing period."))
    if importer.kind == "subscriptions" and not (mapping.get("started_on") or mapping.get("period_start")):
        problems.append(_("Map a column to the start date (or to the start of each billing period)."))
    return problems


def _label_of(importer: Importer, target: str) -> str:
    """A field the file has no column for, by its label (a problem says what is missing)."""
    found = next((f for f in importer.fields if f.name == target), None)
    return str(found.label) if found is not None else target


def _records(path: Path, dialect: reading.Dialect, mapping: dict[str, str]):
    """(row number, {target field: value}) for every data row; blank lines are skipped."""
    found = reading.rows(path, dialect)
    header = [cell.strip() for cell in next(found, [])]
    index = {target: header.index(column) for target, column in mapping.items() if column in header}
    for number, row in enumerate(found, start=2):
        if not any(cell.strip() for cell in row):
            continue
        yield number, {target: (row[i] if i < len(row) else "") for target, i in index.items()}


def _chunks(iterable, size: int):
    chunk = []
    for item in iterable:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _warmed(records, lookups: Lookups, mapping: dict[str, str]):
    """The records as they come, the accounts a chunk of them names read in one query first."""
    if "account" not in mapping:
        yield from records
        return
    for chunk in _chunks(records, CHUNK_ROWS):
        lookups.warm_accounts(record.get("account", "") for _number, record in chunk)
        yield from chunk


def _day_first(path: Path, dialect: reading.Dialect, mapping: dict[str, str], importer: Importer) -> dict:
    """Per date column, whether the file writes day first (from its first rows' values)."""
    samples: dict[str, list[str]] = {name: [] for name in importer.date_fields if mapping.get(name)}
    if not samples:
        return {}
    for count, (_number, record) in enumerate(_records(path, dialect, mapping)):
        for name in samples:
            if record.get(name):
                samples[name].append(record[name])
        if count >= DAY_FIRST_SAMPLE:
            break
    votes = {name: day_first_from(values) for name, values in samples.items()}
    # One habit per file: a column that cannot tell takes the others' answer.
    known = {v for v in votes.values() if v is not None}
    shared = known.pop() if len(known) == 1 else None
    return {name: (vote if vote is not None else shared) for name, vote in votes.items()}


def run(
    path: Path,
    kind: str,
    *,
    mapping: dict[str, str] | None = None,
    dialect: reading.Dialect | None = None,
    dry_run: bool = False,
    actor: User | None = None,
    progress: Progress | None = None,
    per_row: bool = False,
) -> Result:
    """Import the file (see the module's docstring). `per_row`: write through the one-row services even
    where the importer has bulk ones (the reference the bulk write is compared with in tests)."""
    with collections_paused():
        return _run(
            path,
            kind,
            mapping=mapping,
            dialect=dialect,
            dry_run=dry_run,
            actor=actor,
            progress=progress,
            per_row=per_row,
        )


def _run(
    path: Path,
    kind: str,
    *,
    mapping: dict[str, str] | None,
    dialect: reading.Dialect | None,
    dry_run: bool,
    actor: User | None,
    progress: Progress | None,
    per_row: bool,
) -> Result:
    started = time.monotonic()
    importer = IMPORTERS[kind]
    dialect = dialect or reading.detect(path)
    header, _preview = reading.header_and_preview(path, dialect, count=0)
    mapping = {k: v for k, v in (mapping or importer.guess_mapping(header)).items() if v}
    problems = check_mapping(importer, header, mapping)
    if problems:
        raise BadMapping("\n".join(problems))
    column_of = {target: column for target, column in mapping.items()}
    context = {"day_first": _day_first(path, dialect, mapping, importer), "mapped": set(mapping)}
    result = Result()
    lookups = Lookups()

    def problem(row: int, target: str, message: str) -> None:
        result.problem_count += 1
        if len(result.problems) < MAX_PROBLEMS:
            result.problems.append(
                Problem(row, column_of.get(target) or _label_of(importer, target), message)
            )

    shape = None
    if importer.shape is not None:
        shape = importer.shape(lambda: _records(path, dialect, mapping), set(mapping), context)
        context["shape"] = shape.key
        result.shape, result.shape_label = shape.key, str(shape.label)
        if shape.refusal is not None:
            row, target, message = shape.refusal
            problem(row, target, message)
            result.seconds = time.monotonic() - started
            return result
    if shape is not None and shape.grouped:
        return _run_grouped(
            path, dialect, mapping, importer, context, result, problem, dry_run, actor, progress, started
        )

    # Pass 1: every row checked, nothing written.
    if kind == "accounts":  # parents may be defined anywhere in the file
        for _number, record in _records(path, dialect, mapping):
            if record.get("external_id", "").strip():
                lookups.in_file.add(record["external_id"].strip())
    seen: set[str] = set()
    for number, record in _warmed(_records(path, dialect, mapping), lookups, mapping):
        result.rows += 1
        try:
            values = importer.clean(record, lookups, context)
        except RowProblem as error:
            problem(number, error.field, error.message)
            continue
        if values["external_id"] in seen:
            problem(
                number,
                "external_id",
                _("External ID “%(value)s” appears twice in the file.") % {"value": values["external_id"]},
            )
        seen.add(values["external_id"])
        if progress and result.rows % 1000 == 0:
            progress("check", result.rows, 0)
    del seen
    if progress:
        progress("check", result.rows, result.rows)
    if not result.ok:
        result.seconds = time.monotonic() - started
        return result

    # Pass 2: written in one transaction; a dry run rolls it back.
    done = 0
    with transaction.atomic():
        for chunk in _chunks(_records(path, dialect, mapping), CHUNK_ROWS):
            cleaned = [(number, importer.clean(record, lookups, context)) for number, record in chunk]
            if importer.model is not None:  # the chunk's existing rows in one query, not one per row
                lookups.existing = importer.model._default_manager.filter(
                    any_of("external_id", {values["external_id"] for _n, values in cleaned})
                ).in_bulk(field_name="external_id")
            if importer.apply_chunk is not None and not per_row:
                outcomes = importer.apply_chunk(cleaned, lookups, actor)
            else:
                outcomes = [_apply_one(importer, values, lookups, actor) for _number, values in cleaned]
            for (number, _values), outcome in zip(cleaned, outcomes, strict=True):
                if isinstance(outcome, RowProblem):
                    problem(number, outcome.field, outcome.message)
                    continue
                setattr(result, outcome, getattr(result, outcome) + 1)
                done += 1
            if progress:
                progress("write", done, result.rows)
        for child, parent in lookups.deferred_parents:
            accounts.update_account(
                account=Account.objects.get(external_id=child),
                actor=actor,
                parent=Account.objects.get(external_id=parent),
            )
        if not result.ok or dry_run:
            transaction.set_rollback(True)  # a dry run keeps its counts: what the import would do
        if not result.ok:
            result.created = result.updated = result.unchanged = 0
        result.written = result.ok and not dry_run
    if progress:
        progress("write", done, result.rows)
    result.seconds = time.monotonic() - started
    return result


def _apply_one(importer: Importer, values: dict, lookups: Lookups, actor: User | None) -> str | RowProblem:
    try:
        return importer.apply(values, lookups, actor)
    except RowProblem as error:
        return error


def _run_grouped(
    path: Path,
    dialect: reading.Dialect,
    mapping: dict[str, str],
    importer: Importer,
    context: dict,
    result: Result,
    problem: Callable[[int, str, str], None],
    dry_run: bool,
    actor: User | None,
    progress: Progress | None,
    started: float,
) -> Result:
    """A file whose records span several rows: every row checked, gathered, each group checked, then
    all written in one transaction (a dry run rolls it back). The cleaned rows are held until written."""
    assert importer.group_key and importer.check_group and importer.apply_groups
    lookups = Lookups()
    groups: dict[str, Group] = {}
    for number, record in _warmed(_records(path, dialect, mapping), lookups, mapping):
        result.rows += 1
        try:
            values = importer.clean(record, lookups, context)
        except RowProblem as error:
            problem(error.row or number, error.field, error.message)
            continue
        groups.setdefault(importer.group_key(values), []).append((number, values))
        if progress and result.rows % 1000 == 0:
            progress("check", result.rows, 0)
    for group in groups.values():  # the rows that could be read: their problems are shown with the rest
        for found in importer.check_group(group, context):
            problem(found.row or group[0][0], found.field, found.message)
    if progress:
        progress("check", result.rows, result.rows)
    if not result.ok:
        result.seconds = time.monotonic() - started
        return result
    done = 0
    with transaction.atomic():
        try:
            for outcome in importer.apply_groups(groups, lookups, actor, context):
                setattr(result, outcome, getattr(result, outcome) + 1)
                done += 1
                if progress and done % 100 == 0:
                    progress("write", done, len(groups))
        except RowProblem as error:
            problem(error.row or 0, error.field, error.message)
        if not result.ok or dry_run:
            transaction.set_rollback(True)
        if not result.ok:
            result.created = result.updated = result.unchanged = 0
        result.written = result.ok and not dry_run
    if progress:
        progress("write", done, len(groups))
    result.seconds = time.monotonic() - started
    return result
