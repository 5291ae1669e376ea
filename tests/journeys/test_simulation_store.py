"""The simulation reads raw events only through usage/store.py (docs/architecture.md: the store is
the one module that knows how raw events are kept), and the store's two reads it uses."""

from __future__ import annotations

import ast
import inspect
from datetime import UTC, datetime, timedelta

import pytest

from tests.factories import AccountFactory, ContactFactory
from touchpoint.journeys import simulation
from touchpoint.usage import store
from touchpoint.usage.models import RawEvent, Source

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)


def test_the_simulation_names_no_raw_event_model_or_table():
    tree = ast.parse(inspect.getsource(simulation))
    names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    imported = {
        alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) for alias in node.names
    }
    assert "RawEvent" not in names | imported
    assert "usage_rawevent" not in inspect.getsource(simulation)


def _raw(name: str, at: datetime, *, account=None, contact=None, kind: str = "track", **extra) -> RawEvent:
    source = Source.objects.first() or Source.objects.create(name="web")
    return RawEvent.objects.create(
        source=source,
        message_id=f"m-{RawEvent.objects.count()}",
        type=kind,
        event=name,
        user_id=extra.pop("user_id", "u-1"),
        group_id=extra.pop("group_id", ""),
        account_id=account.pk if account else None,
        contact_id=contact.pk if contact else None,
        timestamp=at,
        day=at.date(),
        properties=extra,
    )


def test_track_events_in_a_window_come_in_time_order_with_the_bounds_included():
    account = AccountFactory()
    late = _raw("Report created", NOW, account=account, plan="pro")
    early = _raw("Report created", NOW - timedelta(days=3), user_id="u-unknown", group_id="g-1")
    _raw("Report created", NOW - timedelta(days=3, seconds=1), account=account)  # before the window
    _raw("Report created", NOW + timedelta(seconds=1), account=account)  # after it
    _raw("Logged in", NOW - timedelta(days=1), account=account)  # another name
    _raw("Report created", NOW - timedelta(days=1), account=account, kind="page")  # not a track call

    rows = list(store.track_events_in({"Report created"}, since=NOW - timedelta(days=3), until=NOW))

    assert [row["id"] for row in rows] == [early.pk, late.pk]
    assert rows[0]["account_id"] is None and rows[0]["group_id"] == "g-1" and "properties" not in rows[0]
    with_properties = list(
        store.track_events_in(
            ["Report created"], since=NOW - timedelta(days=1), until=NOW, with_properties=True
        )
    )
    assert [row["properties"] for row in with_properties] == [{"plan": "pro"}]


def test_event_times_give_the_usage_events_of_known_accounts_after_the_start():
    account = AccountFactory()
    contact = ContactFactory(account=account)
    _raw("Export", NOW - timedelta(days=2), account=account, contact=contact)
    _raw("Export", NOW - timedelta(days=1), account=account, kind="page")
    _raw("Export", NOW - timedelta(days=5), account=account)  # the start itself: excluded
    _raw("Export", NOW - timedelta(days=1))  # no account yet
    _raw("Export", NOW - timedelta(days=1), account=account, kind="identify")  # not a usage type

    found = sorted(
        store.event_times({"Export"}, types=("track", "page"), after=NOW - timedelta(days=5), until=NOW),
        key=lambda row: row[3],
    )

    assert found == [
        ("Export", account.pk, contact.pk, NOW - timedelta(days=2)),
        ("Export", account.pk, None, NOW - timedelta(days=1)),
    ]
