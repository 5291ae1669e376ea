"""Dates and amounts as people type them into spreadsheets, in our four languages' habits."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T].*)?$")
CJK = re.compile(r"^(\d{4})年\s*(\d{1,2})月\s*(\d{1,2})日$")
NUMERIC = re.compile(r"^(\d{1,2})([/.\-])(\d{1,2})\2(\d{2}|\d{4})(?:[ T].*)?$")
CURRENCY_SIGNS = re.compile(r"[\s$€£¥₽฿₩]|US|USD|JPY|RUB|THB|EUR|GBP|руб\.?|円|บาท", re.IGNORECASE)


class BadValue(ValueError):
    pass


def day_first_from(samples: list[str]) -> bool | None:
    """Whether the file writes day before month (01.03.2024) — decided from its values, per file.

    True if some value can only be day-first (first part above 12), False if some can only be
    month-first; None if every value reads both ways (then the separator decides: dots are day-first,
    as Russian and German write them, slashes month-first, as US exports do).
    """
    votes = set()
    for value in samples:
        match = NUMERIC.match(value.strip())
        if match:
            first, second = int(match[1]), int(match[3])
            if first > 12 >= second:
                votes.add(True)
            elif second > 12 >= first:
                votes.add(False)
    return votes.pop() if len(votes) == 1 else None


def parse_date(value: str, *, day_first: bool | None = None) -> date:
    text = value.strip()
    match = ISO.match(text) or CJK.match(text)
    try:
        if match:
            return date(int(match[1]), int(match[2]), int(match[3]))
        match = NUMERIC.match(text)
        if match:
            first, second, year = int(match[1]), int(match[3]), int(match[4])
            year = year + 2000 if year < 100 else year
            dayfirst = day_first if day_first is not None else match[2] in ".-"
            day, month = (first, second) if dayfirst else (second, first)
            return date(year, month, day)
        for pattern in ("%d %b %Y", "%b %d, %Y", "%d %B %Y", "%B %d, %Y"):
            try:
                return datetime.strptime(text, pattern).date()
            except ValueError:
                continue
    except ValueError:
        raise BadValue(f"not a real date: {value!r}") from None
    raise BadValue(f"not a date: {value!r}")


def parse_amount(value: str) -> Decimal:
    """1,234.50 · 1 234,50 · 1.234,50 · ¥12,000 · $1,200.00 · (50.00) · -50 → a Decimal."""
    text = CURRENCY_SIGNS.sub("", value.replace("\u00a0", " ").replace("\u202f", " ")).strip()
    negative = text.startswith("(") and text.endswith(")") or text.startswith("-")
    text = text.strip("()-+")
    if not text or not re.fullmatch(r"[\d.,']+", text):
        raise BadValue(f"not an amount: {value!r}")
    text = text.replace("'", "")
    last_dot, last_comma = text.rfind("."), text.rfind(",")
    if last_dot >= 0 and last_comma >= 0:  # both: the later one is the decimal mark
        decimal_mark = "." if last_dot > last_comma else ","
    elif last_comma >= 0:
        # "1,234" is a thousand in English exports; "12,5" and "1234,56" are decimals
        groups = text.split(",")
        decimal_mark = "," if len(groups) == 2 and len(groups[1]) != 3 else ""
    elif text.count(".") > 1:
        decimal_mark = ""  # 1.234.567
    else:
        decimal_mark = "."
    thousands = {",", "."} - {decimal_mark}
    for mark in thousands:
        text = text.replace(mark, "")
    if decimal_mark == ",":
        text = text.replace(",", ".")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise BadValue(f"not an amount: {value!r}") from None
    return -amount if negative else amount
