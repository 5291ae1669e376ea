"""Several workers advancing the same due enrollments never advance one twice (PostgreSQL, SKIP LOCKED);
two entries racing for one subject enroll it once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from tests.factories import AccountFactory, ContactFactory, UserFactory
from tests.journeys.engine_support import WELCOME, live_version
from touchpoint.journeys import engine
from touchpoint.journeys.models import Enrollment, EnrollmentStatus, OutboxRow, StepVisit

pytestmark = pytest.mark.django_db(transaction=True)

on_postgresql = pytest.mark.skipif(
    connections["default"].vendor != "postgresql",
    reason="SQLite has one writer at a time: one worker, nothing to race",
)

COUNT = 200


def _in_threads(count: int, work) -> list[str]:
    barrier = threading.Barrier(count)
    errors: list[str] = []

    def run(n: int) -> None:
        try:
            barrier.wait()
            work(n)
        except Exception as error:  # the test reports it
            errors.append(repr(error))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return errors


@on_postgresql
def test_two_workers_advance_each_due_enrollment_once():
    owner = UserFactory()
    version = live_version(
        [
            {"id": "wait", "type": "wait", "days": 1},
            {"id": "mail", "type": "email", "message": "welcome", "to": ["champion"]},
            {"id": "call", "type": "task", "title": "Call"},
        ],
        messages={"welcome": WELCOME},
    )
    start = timezone.now() - timedelta(days=2)
    for _ in range(COUNT):
        account = AccountFactory(owner=owner, segment=None)
        ContactFactory(account=account, roles=["champion"])
        engine.enroll(version=version, account=account, at=start)
    assert Enrollment.objects.filter(wake_at__lte=timezone.now()).count() == COUNT

    advanced: list[int] = []

    def work(n: int) -> None:
        while moved := engine.advance_due(limit=25):
            advanced.append(moved)

    assert _in_threads(2, work) == []
    assert sum(advanced) == COUNT  # each enrollment was claimed by exactly one worker
    assert Enrollment.objects.filter(status=EnrollmentStatus.COMPLETED).count() == COUNT
    assert OutboxRow.objects.filter(kind="email").count() == COUNT
    assert OutboxRow.objects.filter(kind="task").count() == COUNT
    assert StepVisit.objects.count() == 3 * COUNT
    from touchpoint.tasks.models import Task

    assert Task.objects.count() == COUNT


@on_postgresql
def test_racing_entries_enroll_a_subject_once():
    version = live_version([{"id": "wait", "type": "wait", "days": 3}], reentry={"policy": "after_exit"})
    account = AccountFactory()
    results: list[object] = []

    def work(n: int) -> None:
        # different entry keys: only the re-entry rule (under the account's lock) keeps them apart
        results.append(engine.enroll(version=version, account=account, entry_key=f"k{n}"))

    assert _in_threads(4, work) == []
    assert sum(1 for r in results if r is not None) == 1
    assert Enrollment.objects.count() == 1
