"""The "survey answers" CSV import kind: rows checked with row and column named, answers recorded once."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.factories import AccountFactory, ContactFactory
from touchpoint.events.models import DomainEvent
from touchpoint.surveys.models import Answer
from touchpoint.tasks.models import Task

pytestmark = pytest.mark.django_db


def _write(tmp_path, text: str):
    path = tmp_path / "answers.csv"
    path.write_text(text, encoding="utf-8")
    return path


def _run(path, *extra: str) -> str:
    out = StringIO()
    call_command(
        "import", "survey_answers", str(path), "--no-progress", *extra, stdout=out, stderr=StringIO()
    )
    return out.getvalue()


def test_answers_from_an_old_tool_are_imported_once(tmp_path, survey):
    account = AccountFactory(external_id="acme")
    ContactFactory(account=account, email="ann@acme.example")
    path = _write(
        tmp_path,
        "Survey,Account ID,Email,Score,Comment,Created,Response ID\n"
        "nps,acme,ann@acme.example,2,Too slow,2025-03-01,r-1\n"
        "nps,acme,,10,Love it,2025-04-02,r-2\n",
    )
    _run(path)
    answers = list(Answer.objects.order_by("answered_at"))
    assert [(a.score, a.channel, a.external_id) for a in answers] == [
        (2, "import", "r-1"),
        (10, "import", "r-2"),
    ]
    assert (
        answers[0].contact.email == "ann@acme.example"
        and answers[0].answered_at.date().isoformat() == "2025-03-01"
    )
    assert DomainEvent.objects.filter(kind="survey.answered").count() == 2
    assert not Task.objects.exists()  # an old detractor opens no task today
    _run(path)
    assert Answer.objects.count() == 2


def test_problems_name_the_row_and_the_column(tmp_path, survey):
    AccountFactory(external_id="acme")
    path = _write(
        tmp_path,
        "Survey,Account ID,Score,Created\n"
        "nps,acme,11,2025-03-01\n"
        "nope,acme,5,2025-03-01\n"
        "nps,ghost,5,2025-03-01\n"
        "nps,acme,five,2025-03-01\n",
    )
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("import", "survey_answers", str(path), "--no-progress", stdout=out, stderr=StringIO())
    report = out.getvalue()
    assert "row 2, column Score: Give a score from 0 to 10." in report
    assert "row 3, column Survey: No survey has the key “nope”." in report
    assert "row 4, column Account ID" in report
    assert "row 5, column Score" in report
    assert not Answer.objects.exists()
