"""Figures as people read them: `plain_number` keeps the digits a value has, in the reader's format."""

from __future__ import annotations

from decimal import Decimal

from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from touchpoint.web.display import plain_number


def test_trailing_zeros_go_and_the_reader_format_stays():
    assert plain_number(Decimal("27.3000")) == "27.3"
    assert plain_number(Decimal("1E+3")) == "1,000"
    assert plain_number(Decimal("-2.50")) == "-2.5"
    assert plain_number(5.0) == "5"
    assert plain_number(None) == "—"
    with translation.override("ru"):
        assert plain_number(Decimal("12345.60")).replace("\xa0", " ") == "12 345,6"


@given(st.decimals(min_value=-(10**12), max_value=10**12, places=4, allow_nan=False, allow_infinity=False))
def test_the_figure_reads_back_as_the_same_value(value):
    shown = plain_number(value).replace(",", "")
    assert Decimal(shown) == value
    assert not ("." in shown and shown.endswith("0"))
