"""touchpoint.bulk.any_of finds exactly what `__in` finds, on either database (property-based), and
collections_paused puts Python's collector back as it found it."""

from __future__ import annotations

import gc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from touchpoint.accounts.models import Account
from touchpoint.bulk import any_of
from touchpoint.collections_paused import collections_paused

# External ids that look like numbers, JSON, SQL or nothing at all, and every script we ship.
STORED = ["1", "01", "1.0", "-1", "a'b", 'a"b', "[1]", "null", "ĉ", "日本", "ไทย", "x" * 128, "%s", "?"]

text = st.one_of(
    st.sampled_from(STORED), st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"))
)


@pytest.fixture
def stored_accounts(db):
    return [Account.objects.create(name=f"A{n}", external_id=value) for n, value in enumerate(STORED)]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(wanted=st.lists(text, max_size=30))
def test_any_of_matches_in_on_text(stored_accounts, wanted):
    by_in = set(Account.objects.filter(external_id__in=wanted).values_list("pk", flat=True))
    by_any = set(Account.objects.filter(any_of("external_id", wanted)).values_list("pk", flat=True))
    assert by_any == by_in


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(extra=st.lists(st.integers(min_value=-(2**63), max_value=2**63 - 1), max_size=30), pick=st.data())
def test_any_of_matches_in_on_ids_and_as_an_exclusion(stored_accounts, extra, pick):
    ids = [account.pk for account in stored_accounts]
    wanted = pick.draw(st.lists(st.sampled_from(ids), max_size=len(ids))) + extra
    assert set(Account.objects.filter(any_of("pk", wanted)).values_list("pk", flat=True)) == set(
        Account.objects.filter(pk__in=wanted).values_list("pk", flat=True)
    )
    assert set(Account.objects.exclude(any_of("pk", wanted)).values_list("pk", flat=True)) == set(
        Account.objects.exclude(pk__in=wanted).values_list("pk", flat=True)
    )


def test_any_of_takes_a_set_or_a_generator_and_an_empty_list_matches_nothing(stored_accounts):
    first = stored_accounts[0]
    assert list(Account.objects.filter(any_of("pk", {first.pk}))) == [first]
    assert list(Account.objects.filter(any_of("pk", (a.pk for a in stored_accounts[:1])))) == [first]
    assert not Account.objects.filter(any_of("pk", [])).exists()


def test_collections_paused_nests_and_restores_the_collector():
    before, frozen = gc.get_threshold(), gc.get_freeze_count()
    with collections_paused():
        assert gc.get_threshold()[0] >= 50_000
        assert gc.get_freeze_count() > frozen
        with collections_paused():
            pass
        assert gc.get_threshold()[0] >= 50_000  # the outer job still runs
    assert gc.get_threshold() == before
    if frozen == 0:
        assert gc.get_freeze_count() == 0
    else:  # this process froze what it loaded (as serve's do): that stays frozen
        assert gc.get_freeze_count() >= frozen
    with pytest.raises(RuntimeError), collections_paused():
        raise RuntimeError("a failed import")
    assert gc.get_threshold() == before


def test_collections_paused_keeps_an_earlier_freeze():
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with collections_paused():
            pass
        assert gc.get_freeze_count() >= frozen
    finally:
        gc.unfreeze()
