"""Each accounts service records its domain event in its own transaction (and none when it rolls back)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from tests.factories import AccountFactory, ContactFactory, UserFactory
from touchpoint.accounts import services
from touchpoint.events.models import DomainEvent

pytestmark = pytest.mark.django_db


def events(kind: str) -> list[DomainEvent]:
    return list(DomainEvent.objects.filter(kind=kind).order_by("id"))


def test_creating_an_account_records_account_created(csm):
    account = services.create_account(name="Acme", actor=csm, external_id="acme-1", owner=csm)
    [event] = events("account.created")
    assert (event.account_id, event.subject_type, event.subject_id, event.actor_id) == (
        account.pk,
        "accounts.account",
        account.pk,
        csm.pk,
    )
    assert event.payload == {
        "name": "Acme",
        "external_id": "acme-1",
        "owner_id": csm.pk,
        "segment_id": None,
        "parent_id": None,
    }


def test_changing_an_account_records_the_changes_by_id_and_an_owner_change(csm, leader):
    account = AccountFactory(owner=csm, name="Old")
    new_owner = UserFactory()
    # Reassigning the owner is a leader's action (books of business).
    services.update_account(account=account, actor=leader, name="New", owner=new_owner)
    [changed] = events("account.changed")
    assert changed.payload == {"changes": {"name": ["Old", "New"], "owner": [csm.pk, new_owner.pk]}}
    [owner] = events("account.owner_changed")
    assert (owner.account_id, owner.payload) == (
        account.pk,
        {"from_owner_id": csm.pk, "to_owner_id": new_owner.pk},
    )


def test_a_change_that_changes_nothing_records_no_event(csm):
    account = AccountFactory(name="Same")
    services.update_account(account=account, actor=csm, name="Same")
    assert not DomainEvent.objects.filter(kind__startswith="account.").exists()


def test_a_name_change_alone_records_no_owner_change(csm):
    account = AccountFactory(name="Old")
    services.update_account(account=account, actor=csm, name="New")
    assert events("account.changed") and not events("account.owner_changed")


def test_deleting_an_account_records_account_deleted(csm):
    account = AccountFactory(name="Gone")
    pk = account.pk
    services.delete_account(account=account, actor=csm)
    [event] = events("account.deleted")
    assert (event.account_id, event.payload) == (pk, {"name": "Gone"})


def test_contacts_added_changed_and_removed_record_events(csm):
    account = AccountFactory()
    contact = services.create_contact(
        account=account, name="Ann", email="ann@example.com", roles=["champion"], actor=csm
    )
    [added] = events("contact.added")
    assert (added.account_id, added.subject_type, added.payload) == (
        account.pk,
        "accounts.contact",
        {"contact_id": contact.pk, "name": "Ann", "email": "ann@example.com", "roles": ["champion"]},
    )
    services.update_contact(contact=contact, actor=csm, title="CTO")
    [changed] = events("contact.changed")
    assert changed.payload == {"contact_id": contact.pk, "changes": {"title": ["", "CTO"]}}
    pk = contact.pk
    services.delete_contact(contact=contact, actor=csm)
    [removed] = events("contact.removed")
    assert (removed.account_id, removed.payload) == (
        account.pk,
        {"contact_id": pk, "name": "Ann", "roles": ["champion"]},
    )


@pytest.mark.parametrize("kind", ["note", "meeting", "call", "email"])
def test_logging_an_engagement_records_engagement_logged(csm, kind):
    account = AccountFactory()
    contact = ContactFactory(account=account)
    engagement = services.log_engagement(
        account=account, kind=kind, subject="Kick-off", actor=csm, contacts=[contact], duration_minutes=30
    )
    [event] = events("engagement.logged")
    assert (event.account_id, event.subject_id, event.occurred_at) == (
        account.pk,
        engagement.pk,
        engagement.occurred_at,
    )
    assert event.payload == {
        "engagement_id": engagement.pk,
        "kind": kind,
        "contact_ids": [contact.pk],
        "duration_minutes": 30,
    }


def test_a_rejected_or_rolled_back_service_leaves_no_event(csm):
    with pytest.raises(ValidationError):
        services.create_account(name="", actor=csm)
    with pytest.raises(RuntimeError), transaction.atomic():
        account = services.create_account(name="Rolled back", actor=csm)
        services.log_engagement(account=account, kind="note", body="hello", actor=csm)
        raise RuntimeError
    assert not DomainEvent.objects.exists()


def test_team_changes_are_domain_events(csm, leader):
    from touchpoint.users.roles import Role

    account = AccountFactory(owner=csm)
    teammate = UserFactory(role=Role.CSM)
    services.add_team_member(account=account, user=teammate, actor=leader, role="csm")
    services.remove_team_member(account=account, user=teammate, actor=leader)
    [added] = events("team.member_added")
    [removed] = events("team.member_removed")
    assert added.account_id == removed.account_id == account.pk
    assert added.payload == {"user_id": teammate.pk, "role": "csm"} and added.actor == leader
    assert removed.payload == {"user_id": teammate.pk, "role": "csm"}
