"""Group commit: concurrent batches of a web process share one transaction; a bad one costs only itself."""

import threading

import pytest
from django.db import connection
from django.utils import timezone

from touchpoint.usage import services, store
from touchpoint.usage.group_commit import GroupCommit, Job
from touchpoint.usage.models import RawEvent, ReceivedMessage
from touchpoint.usage.segment import parse_message
from touchpoint.usage.services import create_source

pytestmark = pytest.mark.django_db(transaction=True)


def _batch_job(source, ids, *, fail=False):
    received_at = timezone.now()
    messages = [
        parse_message(
            {"type": "track", "messageId": m, "userId": "u1", "event": "Report created"},
            received_at=received_at,
        )
        for m in ids
    ]
    prepared = store.prepare(source, messages, received_at=received_at)

    def run():
        outcome = services._store(source, messages, prepared, received_at)
        if fail:
            raise ValueError("this batch is bad")
        return outcome

    return run


def test_a_failing_batch_in_a_group_costs_only_itself():
    source = create_source(name="Group", actor=None)
    group = GroupCommit(alone=services._write_alone)
    jobs = [
        Job(run=_batch_job(source, ["a1", "a2"])),
        Job(run=_batch_job(source, ["b1"], fail=True)),
        Job(run=_batch_job(source, ["c1", "a1"])),  # a1 is a duplicate of the first batch's
    ]
    group._write(jobs)
    assert all(job.done for job in jobs)
    assert jobs[0].result() == (2, 0)
    with pytest.raises(ValueError, match="bad"):
        jobs[1].result()
    assert jobs[2].result() == (1, 1)
    assert sorted(RawEvent.objects.values_list("message_id", flat=True)) == ["a1", "a2", "c1"]
    # The bad batch's claim was rolled back with it: a corrected retry of b1 is not a duplicate.
    assert not ReceivedMessage.objects.filter(message_id="b1").exists()


def test_requests_that_arrive_while_a_leader_writes_are_written_together_and_each_gets_its_answer():
    if connection.vendor == "sqlite":
        pytest.skip("the in-memory SQLite test database is one connection's: threads cannot write to it")
    source = create_source(name="Together", actor=None)
    group = GroupCommit(alone=services._write_alone)
    leader_writing, release = threading.Event(), threading.Event()
    first = _batch_job(source, ["first"])

    def slow_first():
        leader_writing.set()
        release.wait(10)
        return first()

    answers: dict[int, object] = {}

    def send(n, run):
        try:
            answers[n] = group.submit(run)
        except Exception as error:  # checked below
            answers[n] = error
        finally:
            connection.close()

    leader = threading.Thread(target=send, args=(0, slow_first))
    leader.start()
    assert leader_writing.wait(10)
    followers = [
        threading.Thread(target=send, args=(n, _batch_job(source, [f"m{n}"], fail=n == 3)))
        for n in range(1, 5)
    ]
    for thread in followers:
        thread.start()
    while len(group._queue) < 4:  # every follower is queued behind the leader
        threading.Event().wait(0.01)
    release.set()
    for thread in [leader, *followers]:
        thread.join(20)
    assert answers[0] == (1, 0) and answers[1] == (1, 0) and answers[2] == (1, 0) and answers[4] == (1, 0)
    assert isinstance(answers[3], ValueError)
    assert group.largest == 4  # the four followers went in one group
    assert sorted(RawEvent.objects.values_list("message_id", flat=True)) == ["first", "m1", "m2", "m4"]
