"""Demo step "support": policies and calendars, tickets over the history with a realistic priority
mix, some breaches (with alerts for the owners and escalation tasks), an open backlog with one ticket
due today; the same seed gives the same tickets."""

from __future__ import annotations

from collections import Counter

import pytest
from django.utils import timezone

from tests.conftest import demo_once_per_module
from touchpoint.home.models import Alert
from touchpoint.support import selectors
from touchpoint.support.models import DONE_STATUSES, BusinessCalendar, SlaBreach, SlaPolicy, Ticket
from touchpoint.tasks.models import Task

pytestmark = pytest.mark.django_db

company = demo_once_per_module("--accounts=40", "--days=200", "--seed=3", f"--today={timezone.localdate()}")


def test_policies_calendars_and_tickets(company):
    assert BusinessCalendar.objects.count() == 2
    assert SlaPolicy.objects.filter(segment__isnull=True).count() == 1
    assert SlaPolicy.objects.filter(segment__name="Enterprise").count() == 1
    tickets = Ticket.objects.count()
    assert tickets > 100
    mix = Counter(Ticket.objects.values_list("priority", flat=True))
    assert mix["normal"] > mix["high"] > mix["urgent"] > 0 and mix["low"] > 0
    months = {t.astimezone().strftime("%Y-%m") for t in Ticket.objects.values_list("opened_at", flat=True)}
    assert len(months) >= 6


def test_some_breaches_with_alerts_and_escalations(company):
    breached = Ticket.objects.filter(breached=True).count()
    assert 0 < breached < Ticket.objects.count() * 0.4
    assert SlaBreach.objects.count() >= breached
    assert Task.objects.filter(about_url__startswith="/support/tickets/").exists()
    assert Alert.objects.filter(kind="ticket.sla_breached").exists()


def test_an_open_backlog_with_one_due_today(company):
    open_tickets = Ticket.objects.exclude(status__in=DONE_STATUSES)
    assert open_tickets.count() >= 5
    due_today = Ticket.objects.get(external_id="9999")
    assert due_today.next_due_at.astimezone().date() >= timezone.localdate()


def test_the_numbers_come_out(company, admin_user):
    metrics = selectors.support_metrics(admin_user, months=6)
    assert metrics.total.first_reply_hours and metrics.total.fix_hours
    assert 50 < metrics.total.compliance < 100
    assert {row.key for row in metrics.by_priority} == {"urgent", "high", "normal", "low"}
