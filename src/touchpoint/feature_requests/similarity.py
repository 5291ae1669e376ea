"""Which requests read alike: TF-IDF over character n-grams, compared by cosine similarity.

Character n-grams (2 and 3 characters, within words) need no word splitting, so they work for
Japanese and Thai, which write no spaces between words, as well as for English or Russian, and they
forgive plurals and typos ("export to CSV" ~ "CSV exports"). Texts are NFKC-normalised and lower-cased
first (full-width Ｃｓｖ is csv). Two requests whose title and description score `DUPLICATE_AT` or
more are suggested as duplicates; a title being typed is matched from `SUGGEST_AT` (lower: a few
words typed already point at the request). Only a person merges.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

DUPLICATE_AT = 0.5
SUGGEST_AT = 0.25


def _normal(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").lower().strip()


def _vectorizer() -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 3), sublinear_tf=True, min_df=1)


@dataclass(frozen=True)
class Match:
    id: int
    score: float


def similar_to(
    text: str, candidates: Sequence[tuple[int, str]], *, at_least: float = SUGGEST_AT, limit: int = 5
) -> list[Match]:
    """The candidates (id, text) reading most like `text`, best first, scoring at least `at_least`."""
    query = _normal(text)
    if len(query) < 2 or not candidates:
        return []
    from sklearn.metrics.pairwise import cosine_similarity

    vectorizer = _vectorizer()
    try:
        matrix = vectorizer.fit_transform([_normal(body) for _id, body in candidates] + [query])
    except ValueError:  # nothing but one-character texts: no n-gram at all
        return []
    scores = cosine_similarity(matrix[-1], matrix[:-1]).ravel()
    found = [Match(candidates[i][0], float(score)) for i, score in enumerate(scores) if score >= at_least]
    found.sort(key=lambda match: (-match.score, match.id))
    return found[:limit]


@dataclass(frozen=True)
class Pair:
    first: int
    second: int
    score: float


def duplicate_pairs(texts: Sequence[tuple[int, str]], *, at_least: float = DUPLICATE_AT) -> list[Pair]:
    """Every pair of texts (id, text) scoring at least `at_least`, best first; `first` < `second`."""
    if len(texts) < 2:
        return []
    from sklearn.metrics.pairwise import cosine_similarity

    try:
        matrix = _vectorizer().fit_transform([_normal(body) for _id, body in texts])
    except ValueError:
        return []
    scores = cosine_similarity(matrix, dense_output=False).tocoo()
    pairs: list[Pair] = []
    for i, j, score in zip(scores.row, scores.col, scores.data, strict=True):
        if i < j and score >= at_least:
            a, b = texts[i][0], texts[j][0]
            pairs.append(Pair(min(a, b), max(a, b), float(score)))
    pairs.sort(key=lambda pair: (-pair.score, pair.first, pair.second))
    return pairs
