"""Themes in comments: grouped by topic in English, Japanese and Thai (no spaces between words)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from touchpoint.surveys.themes import Verbatim, script_of, themes

ENGLISH = [
    "The price is too high",
    "Too expensive, the price went up again",
    "Price increase hurt our budget",
    "Support was slow to answer",
    "Slow support replies this month",
    "Support takes days to reply",
]
JAPANESE = [
    "価格が高すぎる",
    "価格が上がった",
    "価格が高い",
    "サポートの返事が遅い",
    "サポートが遅い",
    "サポートの対応が遅い",
]
THAI = ["ราคาแพงเกินไป", "ราคาสูงขึ้นอีก", "ราคาแพงมาก", "ฝ่ายสนับสนุนตอบช้า", "ฝ่ายสนับสนุนช้ามาก", "ฝ่ายสนับสนุนตอบกลับช้า"]


def _grouped(texts: list[str]) -> list[set[str]]:
    found = themes([Verbatim(id=i, text=t) for i, t in enumerate(texts)], count=2)
    return [{c.text for c in theme.comments} for theme in found]


def test_english_comments_group_by_topic_with_a_word_label():
    found = themes([Verbatim(id=i, text=t) for i, t in enumerate(ENGLISH)], count=2)
    assert sorted(sorted(g) for g in _grouped(ENGLISH)) == sorted([sorted(ENGLISH[:3]), sorted(ENGLISH[3:])])
    labels = {theme.terms[0] for theme in found}
    assert labels == {"price", "support"}


def test_japanese_comments_group_by_topic_without_spaces():
    assert sorted(sorted(g) for g in _grouped(JAPANESE)) == sorted(
        [sorted(JAPANESE[:3]), sorted(JAPANESE[3:])]
    )
    labels = " ".join(
        theme.label for theme in themes([Verbatim(i, t) for i, t in enumerate(JAPANESE)], count=2)
    )
    assert "価格" in labels and "サポート" in labels


def test_thai_comments_group_by_topic_without_spaces():
    assert sorted(sorted(g) for g in _grouped(THAI)) == sorted([sorted(THAI[:3]), sorted(THAI[3:])])
    labels = " ".join(theme.label for theme in themes([Verbatim(i, t) for i, t in enumerate(THAI)], count=2))
    assert "ราคา" in labels and "ฝ่ายสนับสนุน" in labels


def test_each_writing_is_grouped_on_its_own():
    found = themes([Verbatim(i, t) for i, t in enumerate(ENGLISH + JAPANESE + THAI)], count=2)
    assert {theme.language for theme in found} == {"en", "ja", "th"}
    for theme in found:
        assert {script_of(c.text) for c in theme.comments} == {theme.language}


def test_too_few_comments_make_no_themes():
    assert themes([Verbatim(1, "fine"), Verbatim(2, "ok")]) == []


@settings(max_examples=25, deadline=None)
@given(st.lists(st.text(min_size=0, max_size=40), max_size=30))
def test_every_comment_lands_in_at_most_one_theme(texts):
    comments = [Verbatim(id=i, text=t) for i, t in enumerate(texts)]
    found = themes(comments)
    placed = [c.id for theme in found for c in theme.comments]
    assert len(placed) == len(set(placed))
    assert set(placed) <= {c.id for c in comments if c.text.strip()}
