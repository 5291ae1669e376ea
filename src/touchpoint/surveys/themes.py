"""Themes in comments: verbatims grouped by topic, for any language, Japanese and Thai included.

Japanese and Thai write no spaces between words, so word tokenisers built for English find one
"word" per sentence there. Character n-grams work for every script: scikit-learn's TfidfVectorizer
(analyzer "char_wb", 3–5 characters for spaced writing, 2–4 for
Japanese, 3–6 for Thai; sublinear tf) weighs the n-grams each comment shares with few
others, and NMF (non-negative matrix factorisation) splits the comments into k topics; each comment
goes to its strongest topic. k grows with the number of comments (about one theme per five, between
2 and 8). Writings share no n-grams, so each (Latin, Cyrillic, Japanese, Thai) is grouped on its own.
A theme's label: for spaced writing the most frequent whole words holding its heaviest n-grams; for
Japanese and Thai its heaviest n-grams, longest first, dropping one inside a longer one already
shown. The comments behind a theme are listed by weight.

Deterministic: NMF starts from NNDSVD (no random start), so the same comments give the same themes.
"""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass, field

MIN_COMMENTS = 4
MAX_THEMES = 8
LABEL_TERMS = 3
MAX_COMMENTS = 2000  # the most recent ones: enough for topics, bounded in time


@dataclass(frozen=True)
class Verbatim:
    id: int
    text: str
    score: int | None = None
    language: str = ""


@dataclass
class Theme:
    label: str
    terms: list[str]
    language: str = ""
    comments: list[Verbatim] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.comments)

    def distinct(self, limit: int = 12) -> list[tuple[Verbatim, int]]:
        """The theme's comments with the same words said once, with how many said them, in weight order."""
        seen: dict[str, list] = {}
        for comment in self.comments:
            key = " ".join(comment.text.split()).lower()
            if key in seen:
                seen[key][1] += 1
            else:
                seen[key] = [comment, 1]
        return [(comment, count) for comment, count in list(seen.values())[:limit]]


_SPACES = re.compile(r"\s+")


def _normalise(text: str) -> str:
    return _SPACES.sub(" ", text.lower()).strip()


def _overlaps(one: str, other: str) -> bool:
    """One holds the other, or they share a run of three characters (two cuts of one word)."""
    if one in other or other in one:
        return True
    return any(one[i : i + 3] in other for i in range(len(one) - 2))


def _label(candidates: list[str]) -> list[str]:
    chosen: list[str] = []
    for term in candidates:
        term = term.strip()
        if len(term) < 2:
            continue
        if any(_overlaps(term, kept) for kept in chosen):
            continue
        chosen.append(term)
        if len(chosen) == LABEL_TERMS:
            break
    return chosen


_THAI = re.compile(r"[\u0E00-\u0E7F]")
_JAPANESE = re.compile(r"[\u3040-\u30FF\u3400-\u9FFF]")
_CYRILLIC = re.compile(r"[\u0400-\u04FF]")
_WORD = re.compile(r"\w{3,}")
SPACED = ("en", "ru")
# Where unspaced text breaks: spaces and punctuation only (Thai vowel and tone marks are not \w).
_BREAKS = re.compile(r"[\s.,!?;:()\[\]{}\"'“”‘’«»、。，．！？「」『』・…—–-]+")
# Words too common to name a theme (sklearn has no Russian list; these few are enough for labels).
_COMMON = frozenset(
    [
        "the",
        "and",
        "for",
        "are",
        "was",
        "were",
        "but",
        "not",
        "you",
        "your",
        "our",
        "with",
        "this",
        "that",
        "have",
        "has",
        "had",
        "too",
        "very",
        "its",
        "it's",
        "they",
        "them",
        "their",
        "from",
        "what",
        "when",
        "all",
        "can",
        "get",
        "got",
        "just",
        "more",
        "much",
        "than",
        "then",
        "there",
        "about",
        "into",
        "это",
        "как",
        "так",
        "что",
        "для",
        "все",
        "ещё",
        "еще",
        "уже",
        "очень",
        "был",
        "была",
        "были",
        "нас",
        "вас",
        "они",
        "его",
        "она",
        "мне",
        "нам",
    ]
)


def script_of(text: str) -> str:
    """The writing a comment is in, as a language code: th, ja, ru, else en (Latin and the rest)."""
    if _THAI.search(text):
        return "th"
    if _JAPANESE.search(text):
        return "ja"
    if _CYRILLIC.search(text):
        return "ru"
    return "en"


def themes(comments: list[Verbatim], *, count: int | None = None) -> list[Theme]:
    """The comments grouped by topic, biggest theme first; [] when there are too few to group.

    Comments in different writings share no n-grams, so each writing (Thai, Japanese, Cyrillic,
    Latin) is grouped on its own, and the themes of all are listed together.
    """
    usable = [c for c in comments if c.text and c.text.strip()][:MAX_COMMENTS]
    by_script: dict[str, list[Verbatim]] = {}
    for comment in usable:
        by_script.setdefault(script_of(comment.text), []).append(comment)
    found: list[Theme] = []
    for script, group in by_script.items():
        found.extend(_themes_of(group, script=script, count=count))
    found.sort(key=lambda theme: -theme.size)
    return found


def _units(text: str, script: str) -> set[str]:
    """What a label is made of: words for spaced writing, runs of 2–16 characters otherwise."""
    if script in SPACED:
        return {word for word in _WORD.findall(text.lower()) if word not in _COMMON}
    runs = [run for run in _BREAKS.split(text.lower()) if run]
    return {run[i : i + n] for run in runs for n in range(2, 17) for i in range(len(run) - n + 1)}


def _label_of(members: list[str], everyone: list[set[str]], script: str) -> list[str]:
    """The units most typical of the theme's comments: common among them, rare among the others
    (share of members × idf; longer runs preferred for Japanese and Thai)."""
    member_units = [_units(text, script) for text in members]
    inside: dict[str, int] = {}
    for units in member_units:
        for unit in units:
            inside[unit] = inside.get(unit, 0) + 1
    needed = 2 if len(members) > 1 else 1
    total = len(everyone)
    overall: dict[str, int] = {}
    for units in everyone:
        for unit in units:
            if unit in inside:
                overall[unit] = overall.get(unit, 0) + 1

    def weight(unit: str) -> float:
        idf = math.log((total + 1) / (overall.get(unit, 0) + 1)) + 1
        length = 1.0 if script in SPACED else math.sqrt(len(unit))
        return inside[unit] / len(members) * idf * length

    ranked = sorted((u for u, n in inside.items() if n >= needed), key=lambda u: (-weight(u), u))
    return _label(ranked)


def _themes_of(usable: list[Verbatim], *, script: str, count: int | None) -> list[Theme]:
    if len(usable) < MIN_COMMENTS:
        return []
    from sklearn.decomposition import NMF
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=(3, 5) if script in SPACED else (2, 4) if script == "ja" else (3, 6),
        min_df=2,
        max_df=0.6,
        sublinear_tf=True,
        preprocessor=_normalise,
    )
    try:
        matrix = vectorizer.fit_transform([c.text for c in usable])
    except ValueError:  # nothing shared between comments (every n-gram seen once)
        return []
    terms = vectorizer.get_feature_names_out()
    if matrix.shape[1] < 2:
        return []
    k = count or max(2, min(MAX_THEMES, round(len(usable) / 5)))
    k = min(k, matrix.shape[0] - 1, matrix.shape[1])
    if k < 2:
        return []
    model = NMF(n_components=k, init="nndsvd", max_iter=400, random_state=0)
    with warnings.catch_warnings():  # convergence chatter on tiny inputs; the grouping still holds
        warnings.simplefilter("ignore")
        weights = model.fit_transform(matrix)
    everyone = [_units(c.text, script) for c in usable]
    groups: list[Theme] = []
    for topic in range(k):
        order = model.components_[topic].argsort()[::-1][:40]
        members = [usable[i].text for i in range(len(usable)) if weights[i].argmax() == topic]
        label_terms = _label_of(members, everyone, script) if members else []
        if not label_terms:
            label_terms = [str(terms[i]).strip() for i in order[:LABEL_TERMS]]
        groups.append(Theme(label=" · ".join(label_terms), terms=label_terms, language=script))
    strongest = weights.argmax(axis=1)
    strength = weights.max(axis=1)
    ranked = sorted(range(len(usable)), key=lambda i: -strength[i])
    for i in ranked:
        if strength[i] <= 0:
            continue
        groups[int(strongest[i])].comments.append(usable[i])
    kept = [group for group in groups if group.comments]
    kept.sort(key=lambda group: -group.size)
    return kept
