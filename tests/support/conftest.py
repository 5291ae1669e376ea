from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from tests.factories import AccountFactory, SegmentFactory
from touchpoint.support import services
from touchpoint.support.models import Ticket


@pytest.fixture
def calendar(db):
    """Round the clock in UTC: business time is wall time, so tests can reason in plain hours."""
    return services.save_calendar(
        name="Always",
        time_zone="UTC",
        working_days=list(range(7)),
        opens_at=time(0),
        closes_at=time(0),
        holidays=[],
        actor=None,
    )


@pytest.fixture
def enterprise(db):
    return SegmentFactory(name="Enterprise", tier=1)


@pytest.fixture
def policy(calendar, enterprise):
    """Enterprise: urgent tickets answered in 1 h, next reply 2 h, solved in 4 h; a default for the rest."""
    services.save_policy(
        name="Default",
        segment=None,
        calendar=calendar,
        targets={"urgent": {"first_reply_minutes": 120, "resolution_minutes": 24 * 60}},
        actor=None,
    )
    return services.save_policy(
        name="Enterprise",
        segment=enterprise,
        calendar=calendar,
        targets={
            "urgent": {"first_reply_minutes": 60, "next_reply_minutes": 120, "resolution_minutes": 240},
            "normal": {"first_reply_minutes": 480, "resolution_minutes": 2400},
        },
        actor=None,
    )


@pytest.fixture
def big_account(db, csm, enterprise):
    return AccountFactory(
        owner=csm, segment=enterprise, external_id="acme-1", name="Acme", domain="acme.example"
    )


NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def ticket_data(**changes) -> services.TicketData:
    values = {
        "subject": "Login fails",
        "opened_at": NOW - timedelta(minutes=30),
        "updated_at": NOW - timedelta(minutes=30),
        "priority": "urgent",
        "status": "open",
        "source": "zendesk",
        "external_id": "101",
    }
    return services.TicketData(**(values | changes))


@pytest.fixture
def make_ticket(big_account, policy):
    def make(now=NOW, account=None, **changes) -> Ticket:
        ticket, _outcome = services.upsert_ticket(
            data=ticket_data(**changes), account=account or big_account, actor=None, now=now
        )
        return ticket

    return make
