"""CSV that spreadsheet programs open as data, never as formulas.

Excel, LibreOffice and Google Sheets run a cell that starts with "=", "+", "-" or "@" (and some a
leading tab or carriage return) as a formula, so text a customer typed ("=HYPERLINK(…)" as an account
name) could run in the reader's spreadsheet: CSV injection. Every CSV export writes through
`SafeWriter`, which puts an apostrophe before such text (the spreadsheet shows the text as typed and
hides the apostrophe). Numbers, and text that is only a number ("-12.50"), are left as they are so a
column of amounts stays a column of numbers.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def safe_cell(value: Any) -> Any:
    """The value a CSV cell may hold: text that would start a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


class SafeWriter:
    """`csv.writer` whose text cells cannot start a formula; `writerow` returns what the target's
    `write` returned (so a streaming response can yield it)."""

    def __init__(self, target: Any, **options: Any) -> None:
        self._writer = csv.writer(target, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([safe_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)
