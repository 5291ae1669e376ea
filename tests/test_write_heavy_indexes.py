"""The tables written a row per event, import row or change carry no index another index already serves.

Every index is written for every row: an index on `account_id` beside one on (account_id, occurred_at)
costs each insert and answers nothing the longer one does not. The list is the tables imports and
ingestion write hundreds of thousands of rows into; small tables keep Django's defaults.
"""

from __future__ import annotations

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db

WRITE_HEAVY = [
    "accounts_timelineentry",
    "users_auditlogentry",
    "events_domainevent",
    "revenue_subscription",
    "revenue_mrrmovement",
    "revenue_renewalopportunity",
    "usage_rawevent",
    "usage_receivedmessage",
    "usage_pendingrollup",
]


def _indexes(table: str) -> dict[str, dict]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return {name: info for name, info in constraints.items() if info["index"] or info["unique"]}


@pytest.mark.parametrize("table", WRITE_HEAVY)
def test_no_index_is_the_start_of_another(table):
    indexes = _indexes(table)
    assert indexes, f"{table}: no indexes found (renamed table?)"
    covered = [
        f"{name} {info['columns']} is the start of {other} {wider['columns']}"
        for name, info in indexes.items()
        if not info["unique"] and not info.get("primary_key") and info["columns"]
        for other, wider in indexes.items()
        if other != name
        and len(wider["columns"]) > len(info["columns"])
        and wider["columns"][: len(info["columns"])] == info["columns"]
    ]
    assert not covered, covered


def test_the_dropped_indexes_are_gone_and_the_ones_reads_use_stay():
    # Each dropped index was covered by a longer one, except the domain events' account id, which no
    # query reads by (its table keeps the indexes its consumers read by).
    gone = {
        "accounts_timelineentry": ["accounts_timelineentry_account_id_14ead7c3"],
        "users_auditlogentry": ["users_auditlogentry_actor_id_d189c8e9"],
        "events_domainevent": ["events_domainevent_account_id_a8439c27"],  # no query reads by account
        "revenue_mrrmovement": ["revenue_mrrmovement_account_id_0763d5ce"],
        "revenue_renewalopportunity": ["revenue_renewalopportunity_subscription_id_6b27d1cb"],
        "revenue_subscription": [
            "revenue_subscription_status_f0776095",
            "revenue_subscription_status_f0776095_like",
        ],
    }
    stay = {
        "accounts_timelineentry": ["timeline_account_recent", "timeline_subject"],
        "users_auditlogentry": ["users_audit_actor_created"],
        "events_domainevent": ["events_delivery_order", "events_kind_delivery_order"],
        "revenue_mrrmovement": ["movement_account_day"],
        "revenue_renewalopportunity": ["renewal_opportunity_once_per_date"],
        "revenue_subscription": ["subscription_renewals"],
    }
    for table, names in gone.items():
        indexes = _indexes(table)
        assert not set(names) & set(indexes), table
        assert set(stay[table]) <= set(indexes), table
