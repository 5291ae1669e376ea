"""CSV exports keep typed text as text: a cell that would start a formula in a spreadsheet program
gets a leading apostrophe (CSV injection), while numbers stay numbers."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import logged_in_client
from tests.factories import AccountFactory
from touchpoint.revenue import services
from touchpoint.spreadsheet import FORMULA_STARTS, SafeWriter, safe_cell

FORMULAS = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", '=HYPERLINK("http://x")', "\t=1", "\r=1"]


@given(st.text())
def test_no_text_cell_starts_a_formula_unless_it_is_only_a_number(text):
    cell = safe_cell(text)
    if cell.startswith(FORMULA_STARTS):
        assert cell == text and float(cell) == float(cell)  # a plain number ("-12.5") is left alone
    else:
        assert cell in (text, "'" + text)


@given(st.one_of(st.integers(), st.decimals(allow_nan=False), st.floats(allow_nan=False), st.none()))
def test_numbers_and_empty_cells_pass_unchanged(value):
    assert safe_cell(value) is value


def test_the_writer_neutralises_text_and_reads_back_as_typed_with_its_apostrophe():
    out = io.StringIO()
    SafeWriter(out).writerow([*FORMULAS, -5, "-5.25", "plain"])
    (row,) = csv.reader(io.StringIO(out.getvalue()))
    assert row == ["'" + formula for formula in FORMULAS] + ["-5", "-5.25", "plain"]


@pytest.mark.django_db
@pytest.mark.parametrize("name", FORMULAS[:5])
def test_portfolio_and_renewals_exports_keep_an_account_name_that_looks_like_a_formula_as_text(
    admin_user, name
):
    today = timezone.localdate()
    account = AccountFactory(name=name, owner=admin_user)
    services.create_subscription(
        confirm=True,
        account=account,
        product="Cloud",
        mrr=Decimal("50"),
        started_on=today - timedelta(days=200),
        renewal_date=today + timedelta(days=15),
    )
    client = logged_in_client(admin_user)
    portfolio = b"".join(client.get(reverse("portfolio-export")).streaming_content).decode("utf-8-sig")
    renewals = client.get("/renewals/export.csv").content.decode("utf-8-sig")
    for text in (portfolio, renewals):
        cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
        assert "'" + name in cells
        assert not any(cell.startswith(("=", "+", "@")) for cell in cells)
        assert not any(
            cell.startswith("-") and not cell.lstrip("-").replace(".", "").isdigit() for cell in cells
        )
