"""Rules start playbooks once per occurrence: twice, from two threads at once, from two processes
at once and after a restart, one renewal gets exactly one renewal playbook."""

from __future__ import annotations

import os
import subprocess
import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from tests.events.test_events import settle
from tests.factories import AccountFactory, ContactFactory, SubscriptionFactory
from tests.live import TOUCHPOINT, migrated_database_url, query, touchpoint
from tests.playbooks.conftest import ship_playbooks
from touchpoint.accounts.services import create_account, delete_contact, update_contact
from touchpoint.events.services import record_event
from touchpoint.playbooks import triggers
from touchpoint.playbooks.models import PlaybookRule, PlaybookRun, RunTrigger
from touchpoint.tasks.models import Task


def _renewing(days: int, **kwargs):
    return SubscriptionFactory(renewal_date=timezone.localdate() + timedelta(days=days), **kwargs)


@pytest.mark.django_db
def test_the_scan_starts_one_renewal_playbook_per_renewal_anchored_on_its_date(renewal_rule):
    soon = _renewing(100)
    later = _renewing(200)  # outside the 120-day window
    _renewing(50, status="canceled")
    started = triggers.scan_renewals()
    assert [run.account_id for run in started] == [soon.account_id]
    run = started[0]
    assert (run.trigger, run.rule, run.anchor_date) == (RunTrigger.RULE, renewal_rule, soon.renewal_date)
    assert run.occurrence_key == f"renewal:{soon.pk}:{soon.renewal_date.isoformat()}"
    dues = sorted(Task.objects.filter(account=soon.account).values_list("due_on", flat=True))
    today = timezone.localdate()  # 100 days out: the −120 step is due today, the others on their day
    assert dues == [soon.renewal_date - timedelta(days=d) for d in (100, 90, 60, 30)]
    assert dues[0] == today
    assert not PlaybookRun.objects.filter(account=later.account).exists()

    assert triggers.scan_renewals() == []  # the second run of the day, or tomorrow's
    assert PlaybookRun.objects.count() == 1
    assert Task.objects.filter(account=soon.account).count() == 4


@pytest.mark.django_db
def test_a_stopped_renewal_playbook_is_not_started_again_for_the_same_renewal(renewal_rule, csm):
    from touchpoint.playbooks.services import stop_playbook

    subscription = _renewing(40)
    [run] = triggers.scan_renewals()
    stop_playbook(run=run, reason="Handled by the account executive", actor=csm)
    assert triggers.scan_renewals() == []
    subscription.renewal_date += timedelta(days=365)  # next year's renewal is another occurrence
    subscription.save()
    assert triggers.scan_renewals() == []  # outside the window until 120 days before it
    assert triggers.scan_renewals(today=subscription.renewal_date - timedelta(days=100))


@pytest.mark.django_db
def test_a_switched_off_rule_starts_nothing(renewal_rule):
    _renewing(30)
    renewal_rule.is_active = False
    renewal_rule.save()
    assert triggers.scan_renewals() == []
    assert not PlaybookRun.objects.exists()


@pytest.mark.skipif(
    connections["default"].vendor != "postgresql",
    reason="the SQLite test database is in memory (shared cache: threads hit table locks); "
    "the two-process test below covers SQLite on a file",
)
@pytest.mark.django_db(transaction=True)
def test_two_workers_scanning_at_once_start_one_playbook_per_renewal():
    ship_playbooks()
    subscriptions = [_renewing(days) for days in (10, 45, 90)]
    barrier = threading.Barrier(2)
    errors: list[str] = []

    def worker() -> None:
        try:
            barrier.wait(timeout=30)
            triggers.scan_renewals()
        except Exception as error:  # pragma: no cover - reported below
            errors.append(repr(error))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    assert sorted(PlaybookRun.objects.values_list("account_id", flat=True)) == sorted(
        s.account_id for s in subscriptions
    )
    assert Task.objects.count() == 4 * len(subscriptions)


def test_separate_processes_at_once_and_after_a_restart_start_it_once(tmp_path, tmp_path_factory):
    """Each `touchpoint playbook scan` is a new process (a restart); two run at the same time."""
    with migrated_database_url(tmp_path, tmp_path_factory) as database_url:
        env = {**os.environ, "DATABASE_URL": database_url, "TOUCHPOINT_DATA_DIR": str(tmp_path)}
        touchpoint(
            env,
            "shell",
            "-c",
            "from datetime import date, timedelta\n"
            "from touchpoint.accounts.services import create_account\n"
            "from touchpoint.revenue.services import create_subscription\n"
            "from django.utils import timezone\n"
            "account = create_account(name='Renewing Co', actor=None)\n"
            "create_subscription(account=account, actor=None, product='Cloud', mrr=100,"
            " started_on=timezone.localdate() - timedelta(days=300),"
            " renewal_date=timezone.localdate() + timedelta(days=60), confirm=True)\n",
        )
        both = [
            subprocess.Popen(
                [str(TOUCHPOINT), "playbook", "scan"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
            for _ in range(2)
        ]
        outputs = [process.communicate(timeout=120) for process in both]
        assert [process.returncode for process in both] == [0, 0], outputs
        touchpoint(env, "playbook", "scan")  # a later run, in a fresh process
        runs = query(database_url, "SELECT occurrence_key FROM playbooks_playbookrun")
        assert len(runs) == 1 and runs[0][0].startswith("renewal:")
        assert query(database_url, "SELECT count(*) FROM tasks_task")[0][0] == 4


@pytest.mark.django_db(transaction=True)  # events settle only once their transaction commits
def test_health_turning_red_starts_risk_escalation_once(shipped):
    account = AccountFactory()
    day = timezone.localdate().isoformat()
    payload = {"day": day, "grade": "red", "previous_grade": "yellow", "score": 30}
    record_event(kind="health.grade_changed", account=account, subject=account, payload=payload)
    record_event(kind="health.grade_changed", account=account, subject=account, payload=payload)  # a re-run
    for other in (
        {"grade": "yellow", "previous_grade": "green"},
        {"grade": "red", "previous_grade": "unknown"},
    ):
        record_event(kind="health.grade_changed", account=AccountFactory(), payload={"day": day, **other})
    settle()
    triggers.follow_events()
    runs = list(PlaybookRun.objects.all())
    assert [(r.account, r.playbook.name, r.occurrence_key) for r in runs] == [
        (account, "Risk escalation", f"health_red:{day}")
    ]
    assert triggers.follow_events() == 0


@pytest.mark.django_db(transaction=True)  # events settle only once their transaction commits
def test_a_new_account_starts_onboarding_but_an_old_imported_one_does_not(shipped):
    new = create_account(name="Fresh Customer", actor=None)
    old = create_account(name="Long Standing", actor=None)
    type(old).objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=400))
    settle()
    triggers.follow_events()
    assert [(r.account_id, r.playbook.name) for r in PlaybookRun.objects.all()] == [(new.pk, "Onboarding")]


@pytest.mark.django_db(transaction=True)  # events settle only once their transaction commits
@pytest.mark.parametrize("how", ["role removed", "contact deleted"])
def test_a_champion_leaving_starts_the_rule_playbook_when_switched_on(shipped, how):
    PlaybookRule.objects.filter(kind="champion_left").update(is_active=True)
    account = AccountFactory()
    champion = ContactFactory(account=account)
    update_contact(contact=champion, roles=["champion", "user"], actor=None)
    bystander = ContactFactory(account=account)
    update_contact(contact=bystander, roles=["user"], actor=None)
    update_contact(contact=bystander, roles=[], actor=None)  # not a champion: nothing
    if how == "role removed":
        update_contact(contact=champion, roles=["user"], actor=None)
    else:
        delete_contact(contact=champion, actor=None)
    settle()
    triggers.follow_events()
    assert [(r.account, r.playbook.name) for r in PlaybookRun.objects.all()] == [(account, "Risk escalation")]


@pytest.mark.django_db(transaction=True)  # events settle only once their transaction commits
def test_the_champion_rule_ships_switched_off(shipped):
    account = AccountFactory()
    champion = ContactFactory(account=account)
    update_contact(contact=champion, roles=["champion"], actor=None)
    delete_contact(contact=champion, actor=None)
    settle()
    triggers.follow_events()
    assert not PlaybookRun.objects.exists()
