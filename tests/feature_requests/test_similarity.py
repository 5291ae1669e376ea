"""Duplicates by text similarity in languages with and without spaces."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from touchpoint.feature_requests.similarity import DUPLICATE_AT, duplicate_pairs, similar_to

TITLES = [
    (1, "Export reports to CSV"),
    (2, "CSV export of the reports"),
    (3, "Single sign-on with Okta"),
    (4, "レポートをCSVでエクスポート"),
    (5, "レポートのCSVエクスポート機能"),
    (6, "ส่งออกรายงานเป็น CSV"),
    (7, "ส่งออกรายงานเป็นไฟล์ CSV"),
    (8, "SAML シングルサインオン"),
    (9, "Dark mode"),
    (10, "ระบบลงชื่อเข้าใช้ครั้งเดียว SSO"),
    (11, "ダッシュボードのダークモード"),
    (12, "Export dashboards to PDF"),
    (13, "Slack notifications for health drops"),
    (14, "Notify in Slack when health drops"),
    (17, "シングルサインオン (SAML) に対応してほしい"),
]


def test_the_same_request_worded_differently_pairs_up_in_english_japanese_and_thai():
    pairs = {(p.first, p.second) for p in duplicate_pairs(TITLES)}
    assert {(1, 2), (4, 5), (6, 7), (8, 17), (13, 14)} <= pairs
    # Different requests that share a word do not.
    assert (1, 12) not in pairs
    assert (1, 4) not in pairs and (9, 11) not in pairs
    assert all(p.score >= DUPLICATE_AT for p in duplicate_pairs(TITLES))


def test_a_title_being_typed_finds_the_request_in_each_language():
    assert similar_to("csv export", TITLES)[0].id in (1, 2)
    assert similar_to("CSVエクスポート", TITLES)[0].id in (4, 5)
    assert similar_to("ส่งออกรายงาน", TITLES)[0].id in (6, 7)
    assert similar_to("シングルサインオン", TITLES)[0].id in (8, 17)
    assert similar_to("kanban board", TITLES) == []


def test_full_width_letters_read_as_half_width():
    assert similar_to("ＣＳＶ ｅｘｐｏｒｔ", TITLES)[0].id in (1, 2)


@given(st.text(max_size=60), st.lists(st.tuples(st.integers(1, 10**6), st.text(max_size=60)), max_size=8))
def test_any_text_gives_scores_between_the_threshold_and_one(text, candidates):
    for match in similar_to(text, candidates, at_least=0.1):
        assert 0.1 <= match.score <= 1.0 + 1e-9
    for pair in duplicate_pairs(candidates):
        assert pair.first <= pair.second
