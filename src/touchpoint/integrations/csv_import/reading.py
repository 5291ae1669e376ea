"""Reading a CSV file whatever saved it: encoding and delimiter detected, rows streamed (never all in memory)."""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from charset_normalizer import from_bytes

SAMPLE_BYTES = 64 * 1024
DELIMITERS = ",;\t|"
# What spreadsheets in our four languages save when they don't save UTF-8: Excel's "CSV" on a Japanese,
# Russian or Thai Windows. Tried in this order when the bytes are not UTF-8.
LEGACY_ENCODINGS = ("cp932", "cp1251", "cp874")


class UnreadableFile(ValueError):
    """The file is not text in any encoding we know, or has no header row."""


@dataclass(frozen=True)
class Dialect:
    encoding: str
    delimiter: str


def _is_utf8(sample: bytes) -> bool:
    try:
        codecs.getincrementaldecoder("utf-8")().decode(
            sample, final=False
        )  # a cut character at the end is fine
        return True
    except UnicodeDecodeError:
        return False


def _script_score(text: str) -> float:
    """How much of the text is letters of a script we expect (kana/kanji, Cyrillic, Thai, Latin)."""
    wanted = sum(
        1
        for ch in text
        if ch.isalpha()
        and (
            "\u3040" <= ch <= "\u30ff"
            or "\u4e00" <= ch <= "\u9fff"
            or "\u0400" <= ch <= "\u04ff"
            or "\u0e00" <= ch <= "\u0e7f"
            or ch.isascii()
        )
    )
    letters = sum(1 for ch in text if ch.isalpha()) or 1
    return wanted / letters


def detect_encoding(sample: bytes) -> str:
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"  # Excel's "Unicode text"
    if _is_utf8(sample):
        return "utf-8"
    # Short files give statistical detectors little to go on: first the encodings our users' spreadsheets
    # save in, each decoded strictly and judged by how much of the text is a script we expect.
    candidates = []
    for encoding in LEGACY_ENCODINGS:
        try:
            text = sample.decode(encoding)
        except UnicodeDecodeError:
            continue
        candidates.append((_script_score(text), -LEGACY_ENCODINGS.index(encoding), encoding))
    best = max(candidates, default=None)
    if best is not None and best[0] >= 0.9:
        tied = [c[2] for c in candidates if c[0] >= best[0] - 0.05]
        if len(tied) > 1:
            # Several read as a script we expect (Russian bytes are Thai letters in cp874, and back):
            # charset-normalizer's language models judge between those.
            guess = from_bytes(sample, cp_isolation=tied).best()
            if guess is not None and guess.encoding.replace("_", "") in tied:
                return guess.encoding.replace("_", "")
        return best[2]
    guess = from_bytes(sample).best()
    if guess is None:
        raise UnreadableFile("unknown encoding")
    return guess.encoding


def detect_delimiter(header_line: str) -> str:
    try:
        return csv.Sniffer().sniff(header_line, delimiters=DELIMITERS).delimiter
    except csv.Error:
        counts = {d: header_line.count(d) for d in DELIMITERS}
        best = max(counts, key=counts.__getitem__)
        return best if counts[best] else ","


def detect(path: Path) -> Dialect:
    with path.open("rb") as file:
        sample = file.read(SAMPLE_BYTES)
    if not sample.strip():
        raise UnreadableFile("empty")
    encoding = detect_encoding(sample)
    text = sample.decode(encoding, errors="ignore")
    first_line = text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""
    return Dialect(encoding=encoding, delimiter=detect_delimiter(first_line))


def rows(path: Path, dialect: Dialect) -> Iterator[list[str]]:
    """Every row, header first, decoded as it is read."""
    with path.open("r", encoding=dialect.encoding, newline="") as file:
        for row in csv.reader(file, delimiter=dialect.delimiter):
            if row and row[0].startswith("\ufeff"):
                row[0] = row[0][1:]
            yield row


def header_and_preview(path: Path, dialect: Dialect, count: int = 5) -> tuple[list[str], list[list[str]]]:
    found = rows(path, dialect)
    header = next(found, None)
    if not header or not any(cell.strip() for cell in header):
        raise UnreadableFile("no header")
    preview = []
    for row in found:
        preview.append(row)
        if len(preview) >= count:
            break
    return [cell.strip() for cell in header], preview
