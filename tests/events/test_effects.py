"""Background work and outbound effects start only once the transaction that asked for them commits."""

from __future__ import annotations

import pytest
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from tests.scheduler.tasks import add
from touchpoint.events.effects import after_commit, enqueue_after_commit

pytestmark = pytest.mark.django_db


def test_an_effect_waits_for_the_commit(django_capture_on_commit_callbacks):
    ran: list[str] = []
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        after_commit(lambda: ran.append("sent"))
        assert ran == []  # not before the commit
    assert ran == ["sent"]


def test_an_effect_of_a_rolled_back_transaction_never_runs(django_capture_on_commit_callbacks):
    ran: list[str] = []
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            after_commit(lambda: ran.append("sent"))
            raise RuntimeError
    assert ran == [] and callbacks == []


def test_a_task_is_enqueued_after_commit_and_not_after_a_rollback(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            enqueue_after_commit(add, 1, 2)
            raise RuntimeError
    assert not DBTaskResult.objects.exists()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        enqueue_after_commit(add, 1, 2)
        assert not DBTaskResult.objects.exists()
    [queued] = DBTaskResult.objects.all()
    assert queued.args_kwargs == {"args": [1, 2], "kwargs": {}}
