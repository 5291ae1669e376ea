"""Whether a journey condition holds for a subject at a moment: the live engine's and the simulation's answer.

    holds(FieldCondition(field="account.health_grade", op="eq", value="red"), subject, at, entry_data)

A field condition reads the field (journeys/fields.py) as of `at` and compares it with `compare`, a
pure function. A `did:` condition counts the subject's product events in the `within_days` before
`at` (the account's, or the person's when the subject is a contact). `all`/`any`/`not` combine.

Missing values never raise: a field the subject does not have (no health score yet, no renewal, an
attribute never set) is None, every comparison with None is false, `missing` is true and `exists`
false. For list fields (tags, roles) `eq`/`contains` ask whether the list holds the value, `in`
whether it holds any of the values, `ne`/`not_in` whether it holds none of them.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from touchpoint.journeys.definition import AllOf, AnyOf, DidCondition, FieldCondition, NotOf
from touchpoint.journeys.fields import field_named
from touchpoint.journeys.interpreter import Subject

ORDERING_OPS = frozenset({"gt", "gte", "lt", "lte"})


class UnknownField(ValueError):
    """A condition names a field no app registered (the validator refuses it; a removed plugin can cause it)."""


def holds(condition: Any, subject: Subject, at: datetime, entry_data: dict[str, Any] | None) -> bool:
    entry = entry_data or {}
    if isinstance(condition, FieldCondition):
        return compare(condition.op, value_of(condition.field, subject, at, entry), condition.value)
    if isinstance(condition, DidCondition):
        return did(condition, subject, at) >= condition.min_count
    if isinstance(condition, AllOf):
        return all(holds(part, subject, at, entry) for part in condition.all)
    if isinstance(condition, AnyOf):
        return any(holds(part, subject, at, entry) for part in condition.any)
    if isinstance(condition, NotOf):
        return not holds(condition.not_, subject, at, entry)
    raise TypeError(f"not a condition: {condition!r}")


def value_of(name: str, subject: Subject, at: datetime, entry: dict[str, Any]) -> Any:
    """A field's value for the subject at that moment (None when it has none)."""
    if name.startswith("entry."):
        return _walk(entry, name.removeprefix("entry.").split("."))
    if name.startswith("account.attributes."):
        from touchpoint.journeys.fields_builtin import account_of

        account = account_of(subject.account_id)
        attributes = account.attributes if account is not None else {}
        return _walk(attributes, [name.removeprefix("account.attributes.")])
    spec = field_named(name)
    if spec is None:
        raise UnknownField(f"unknown field {name!r}")
    return spec.resolve(subject, at, entry)


def did(condition: DidCondition, subject: Subject, at: datetime) -> int:
    """How many times the subject did the product event in the condition's window before `at`."""
    from touchpoint.usage.selectors import event_count

    return event_count(
        event=condition.did,
        since=at - timedelta(days=condition.within_days),
        until=at,
        account_id=subject.account_id,
        contact_id=subject.contact_id,
    )


def _walk(data: Any, path: list[str]) -> Any:
    for key in path:
        if isinstance(data, dict) and key in data:
            data = data[key]
        elif isinstance(data, list) and key.isdigit() and int(key) < len(data):
            data = data[int(key)]
        else:
            return None
    return data


# --- Comparing -------------------------------------------------------------------------------------


def is_missing(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, list | tuple | dict) and not value)


def compare(op: str, actual: Any, expected: Any) -> bool:
    """Whether `actual <op> expected` holds; never raises, false whenever the values cannot be compared."""
    if op == "missing":
        return is_missing(actual)
    if op == "exists":
        return not is_missing(actual)
    if actual is None:
        return False
    if isinstance(actual, list | tuple):
        return _compare_list(op, list(actual), expected)
    if op == "eq":
        return _equal(actual, expected)
    if op == "ne":
        return expected is not None and not _equal(actual, expected)
    if op == "in":
        return any(_equal(actual, item) for item in _as_list(expected))
    if op == "not_in":
        return not any(_equal(actual, item) for item in _as_list(expected))
    if op == "contains":
        return isinstance(actual, str) and isinstance(expected, str) and expected in actual
    if op in ORDERING_OPS:
        return _order(op, actual, expected)
    return False


def _compare_list(op: str, actual: list[Any], expected: Any) -> bool:
    if op in ("eq", "contains"):
        return any(_equal(item, expected) for item in actual)
    if op == "in":
        return any(_equal(item, wanted) for item in actual for wanted in _as_list(expected))
    if op in ("ne", "not_in"):
        return not any(_equal(item, wanted) for item in actual for wanted in _as_list(expected))
    return False  # a list has no order


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal):
        return float(value)
    return None


def _number_in_text(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _moment(value: Any) -> date | datetime | None:
    if isinstance(value, datetime | date):
        return value
    if isinstance(value, str):
        for parse in (date.fromisoformat, datetime.fromisoformat):
            try:
                return parse(value)
            except ValueError:
                continue
    return None


def _comparable(actual: Any, expected: Any) -> tuple[Any, Any] | None:
    """Both values in one comparable type (numbers, or dates/moments, or text), or None."""
    if isinstance(actual, bool) or isinstance(expected, bool):
        return (actual, expected) if isinstance(actual, bool) and isinstance(expected, bool) else None
    left, right = _number(actual), _number(expected)
    if (left is None) != (right is None):
        # A number against text that spells one ("42" in an attribute filled from a CSV file).
        left = left if left is not None else _number_in_text(actual)
        right = right if right is not None else _number_in_text(expected)
    if left is not None and right is not None:
        return left, right
    if isinstance(actual, date | datetime):
        moment = _moment(expected)
        if moment is None:
            return None
        if isinstance(actual, datetime) != isinstance(moment, datetime):
            # A day against a moment: compare days.
            actual = actual.date() if isinstance(actual, datetime) else actual
            moment = moment.date() if isinstance(moment, datetime) else moment
        elif (
            isinstance(actual, datetime)
            and isinstance(moment, datetime)
            and (actual.tzinfo is None) != (moment.tzinfo is None)
        ):
            return None
        return actual, moment
    if isinstance(actual, str) and isinstance(expected, str):
        return actual, expected
    return None


def _equal(actual: Any, expected: Any) -> bool:
    pair = _comparable(actual, expected)
    return pair is not None and pair[0] == pair[1]


def _order(op: str, actual: Any, expected: Any) -> bool:
    pair = _comparable(actual, expected)
    if pair is None or isinstance(pair[0], bool):
        return False
    left, right = pair
    if op == "gt":
        return bool(left > right)
    if op == "gte":
        return bool(left >= right)
    if op == "lt":
        return bool(left < right)
    return bool(left <= right)
