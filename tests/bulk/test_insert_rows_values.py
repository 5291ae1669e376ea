"""touchpoint.bulk.insert_rows writes JSON and text as the ORM does, whatever the value (property-based).

It writes plain JSON with orjson and hands anything orjson would write differently (a date, a Decimal,
an integer past 64 bits) to the json module the ORM uses; choices' enums go in as their value.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from touchpoint.bulk import _dumps, insert_rows
from touchpoint.events.models import DomainEvent
from touchpoint.revenue.models import ExchangeRate

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)

text = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=20)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=12,
)


class Kind(models.TextChoices):
    OPENED = "renewal.opened", "Renewal opened"


class Weight(models.IntegerChoices):
    HEAVY = 3, "Heavy"


def _stored_both_ways(payload, kind="test.kind"):
    """(payload the ORM stored, payload insert_rows stored), read back through the ORM."""
    with transaction.atomic():
        by_orm = DomainEvent.objects.bulk_create([DomainEvent(kind=kind, payload=payload, occurred_at=T0)])[0]
        (by_rows,) = insert_rows(
            DomainEvent,
            [{"kind": kind, "payload": payload, "occurred_at": T0, "created_at": T0}],
            returning="id",
        )
        found = {e.pk: e for e in DomainEvent.objects.filter(pk__in=[by_orm.pk, by_rows])}
        transaction.set_rollback(True)
    return found[by_orm.pk], found[by_rows]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=st.dictionaries(text, json_values, max_size=5))
def test_any_json_payload_is_stored_as_the_orm_stores_it(payload):
    by_orm, by_rows = _stored_both_ways(payload)
    assert by_rows.payload == by_orm.payload


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=st.dictionaries(text, json_values, max_size=5))
def test_json_reads_back_the_same_from_every_statement_form(payload):
    """PostgreSQL: COPY (the ids returned) hands jsonb the JSON text, `ignore_conflicts` goes by
    INSERT … unnest with psycopg's Jsonb; SQLite: a multi-row INSERT and executemany."""
    rows = [{"kind": "test.kind", "payload": payload, "occurred_at": T0, "created_at": T0}]
    with transaction.atomic():
        (copied,) = insert_rows(DomainEvent, rows, returning="id")
        insert_rows(DomainEvent, rows, ignore_conflicts=True)
        stored = list(
            DomainEvent.objects.filter(kind="test.kind").order_by("pk").values_list("payload", flat=True)
        )
        transaction.set_rollback(True)
    # Each against the other, not the payload: jsonb keeps numbers as numerics (1e16 reads back an int).
    assert len(stored) == 2 and stored[0] == stored[1]
    assert copied


def test_enums_go_in_as_their_values_in_columns_and_in_json():
    by_orm, by_rows = _stored_both_ways({"kind": Kind.OPENED, "weight": Weight.HEAVY}, kind=Kind.OPENED)
    assert by_rows.kind == by_orm.kind == "renewal.opened"
    assert by_rows.payload == by_orm.payload == {"kind": "renewal.opened", "weight": 3}


def test_what_orjson_would_write_differently_goes_the_orm_way():
    assert _dumps(None, {"big": 2**80}) == '{"big": 1208925819614629174706176}'
    with pytest.raises(TypeError):  # the ORM's json module refuses a date without an encoder: so do we
        _dumps(None, {"on": date(2026, 1, 2)})
    assert _dumps(DjangoJSONEncoder, {"on": date(2026, 1, 2), "mrr": Decimal("1.50")}) == (
        '{"on": "2026-01-02", "mrr": "1.50"}'
    )
    assert _dumps(None, {"text": "日本語"}) == '{"text":"日本語"}'  # plain JSON: orjson, UTF-8 as is


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rate=st.decimals(min_value=Decimal("0.00000001"), max_value=Decimal("9999999999"), places=8)
    | st.decimals(min_value=Decimal("0.001"), max_value=Decimal("99999"), places=3).map(str)
)
def test_decimals_are_stored_as_the_orm_stores_them(rate):
    # A finite Decimal goes to the driver as it is (the ORM's two conversions give the same Decimal);
    # anything else (here the text of an amount) takes the ORM's own way.
    with transaction.atomic():
        ExchangeRate.objects.bulk_create([ExchangeRate(currency="ORM", rate=rate)])
        insert_rows(ExchangeRate, [{"currency": "ROW", "rate": rate, "updated_at": T0}])
        stored = dict(ExchangeRate.objects.values_list("currency", "rate"))
        transaction.set_rollback(True)
    assert stored["ROW"] == stored["ORM"]
