from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from touchpoint.integrations.csv_import.runner import run
from touchpoint.support.imports import moment_value
from touchpoint.support.models import Ticket

pytestmark = pytest.mark.django_db

GOOD = (
    "Ticket ID,Organization,Subject,Priority,Status,Created,First Reply,Solved\n"
    "T-1,acme-1,Cannot log in,Urgent,Solved,2026-11-02 09:00,2026-11-02 09:20,2026-11-02 11:00\n"
    "T-2,Acme,Slow reports,Low,Open,2026-11-20T10:00:00Z,,\n"
)


def write(tmp_path, text: str):
    path = tmp_path / "tickets.csv"
    path.write_text(text)
    return path


def test_tickets_import_and_a_second_run_changes_nothing(tmp_path, big_account, policy, admin_user):
    path = write(tmp_path, GOOD)
    result = run(path, "tickets", actor=admin_user)
    assert result.ok and result.created == 2, result.problems
    solved = Ticket.objects.get(external_id="T-1")
    assert solved.source == "import" and solved.status == "solved" and solved.first_reply_minutes == 20
    again = run(path, "tickets", actor=admin_user)
    assert again.ok and again.unchanged == 2 and Ticket.objects.count() == 2


def test_a_bad_row_names_row_and_column_and_nothing_is_written(tmp_path, big_account, policy):
    path = write(
        tmp_path,
        GOOD + "T-3,acme-1,Broken,Whenever,Open,2026-11-21 10:00,,\nT-4,nobody,X,Low,Open,yesterday,,\n",
    )
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("import", "tickets", str(path), "--no-progress", stdout=out, stderr=StringIO())
    text = out.getvalue()
    assert "row 4, column Priority" in text and "row 5, column Organization" in text
    assert not Ticket.objects.exists()


@pytest.mark.parametrize(
    "value",
    ["2026-03-01", "2026-03-01 09:30", "01/03/2026 09:30", "2026-03-01T09:30:00+09:00"],
)
def test_moment_values(value):
    assert moment_value({"x": value}, "x", {}).year == 2026


def test_a_moment_that_is_no_time_is_a_row_problem():
    from touchpoint.integrations.csv_import.importers import RowProblem

    with pytest.raises(RowProblem):
        moment_value({"x": "soon"}, "x", {})
    with pytest.raises(RowProblem):
        moment_value({"x": "2026-03-01 25:00"}, "x", {})
