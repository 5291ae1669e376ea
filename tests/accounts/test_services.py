from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from tests.factories import AccountFactory, ContactFactory
from touchpoint.accounts import services
from touchpoint.accounts.models import Account, Contact, Engagement, TimelineEntry
from touchpoint.accounts.selectors import TimelineCursor
from touchpoint.accounts.timeline import entry_title, kind_info, register_kind
from touchpoint.users.models import AuditLogEntry

pytestmark = pytest.mark.django_db


def test_create_account_records_the_timeline_and_audit_log(csm):
    account = services.create_account(
        name="  Acme  ", domain="https://ACME.example/path", actor=csm, owner=csm
    )
    assert account.name == "Acme" and account.domain == "acme.example"
    entry = TimelineEntry.objects.get(account=account)
    assert entry.kind == "account_created" and entry.actor == csm and entry.subject == account
    assert AuditLogEntry.objects.filter(
        action="account.create", object_id=str(account.pk), actor=csm
    ).exists()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "A", "domain": "not a domain"}, "domain"),
        ({"name": "A", "engagement_model": "medium"}, "engagement_model"),
        ({"name": "A", "external_id": "x" * 129}, "external_id"),
    ],
)
def test_create_account_rejects_bad_input_naming_the_field(csm, kwargs, field):
    with pytest.raises(ValidationError) as error:
        services.create_account(actor=csm, **kwargs)
    assert field in error.value.message_dict
    assert not Account.objects.exists()
    assert not TimelineEntry.objects.exists()


def test_duplicate_external_id_is_a_unique_error(csm):
    services.create_account(name="One", external_id="crm-1", actor=csm)
    with pytest.raises(ValidationError) as error:
        services.create_account(name="Two", external_id="crm-1", actor=csm)
    assert error.value.error_dict["external_id"][0].code == "unique"


def test_update_changes_only_given_fields_and_records_what_changed(csm, leader):
    account = services.create_account(name="Old", domain="old.example", actor=csm, owner=csm)
    services.update_account(account=account, actor=leader, name="New", owner=leader)
    account.refresh_from_db()
    assert (account.name, account.domain, account.owner) == ("New", "old.example", leader)
    entry = TimelineEntry.objects.get(account=account, kind="account_changed")
    assert entry.data["changes"]["name"] == ["Old", "New"]
    assert entry_title(entry) == "Changed name, owner"


def test_update_with_none_clears_and_without_changes_writes_nothing(csm):
    account = services.create_account(name="A", owner=csm, actor=csm)
    services.update_account(account=account, actor=csm, owner=None)
    assert Account.objects.get(pk=account.pk).owner is None
    before = TimelineEntry.objects.count()
    services.update_account(account=account, actor=csm, name="A")
    assert TimelineEntry.objects.count() == before


def test_parent_cycles_are_refused(csm):
    grand = AccountFactory()
    parent = AccountFactory(parent=grand)
    child = AccountFactory(parent=parent)
    with pytest.raises(ValidationError):
        services.update_account(account=grand, actor=csm, parent=child)
    with pytest.raises(ValidationError):
        services.update_account(account=grand, actor=csm, parent=grand)


def test_delete_account_removes_its_contacts_and_timeline_and_orphans_children(csm):
    account = services.create_account(name="Gone", actor=csm)
    child = AccountFactory(parent=account)
    services.create_contact(account=account, name="Someone", actor=csm)
    services.delete_account(account=account, actor=csm)
    child.refresh_from_db()
    assert child.parent is None
    assert not Contact.objects.exists() and not TimelineEntry.objects.filter(account_id=account.pk).exists()
    assert AuditLogEntry.objects.filter(action="account.delete").exists()


def test_create_contact_with_roles(csm, account):
    contact = services.create_contact(
        account=account,
        name="Yuki Tanaka",
        email="Yuki@Example.com",
        roles=["user", "champion", "champion"],
        actor=csm,
    )
    assert contact.email == "yuki@example.com"
    assert contact.role_values == ["champion", "user"]
    entry = TimelineEntry.objects.get(account=account, kind="contact_added")
    assert entry_title(entry) == "Yuki Tanaka added as a contact (Champion, User)"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "A", "email": "nope"}, "email"),
        ({"name": "A", "roles": ["boss"]}, "roles"),
    ],
)
def test_create_contact_rejects_bad_input(csm, account, kwargs, field):
    with pytest.raises(ValidationError) as error:
        services.create_contact(account=account, actor=csm, **kwargs)
    assert field in error.value.message_dict
    assert not Contact.objects.exists()


def test_same_email_twice_in_one_account_is_refused_but_fine_across_accounts(csm, account):
    services.create_contact(account=account, name="A", email="a@x.example", actor=csm)
    with pytest.raises(ValidationError):
        services.create_contact(account=account, name="B", email="A@x.example", actor=csm)
    services.create_contact(account=AccountFactory(), name="A", email="a@x.example", actor=csm)


def test_update_contact_roles(csm, account):
    contact = ContactFactory(account=account, roles=["user"])
    services.update_contact(contact=contact, actor=csm, roles=["billing", "decision_maker"])
    assert Contact.objects.get(pk=contact.pk).role_values == ["decision_maker", "billing"]
    entry = AuditLogEntry.objects.get(action="contact.update")
    assert entry.changes["roles"] == [["user"], ["billing", "decision_maker"]]


def test_log_engagement_puts_it_on_the_timeline_in_time_order(csm, account):
    earlier = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
    services.log_engagement(account=account, kind="note", body="Latest thought", actor=csm)
    meeting = services.log_engagement(
        account=account,
        kind="meeting",
        subject="Kick-off",
        occurred_at=earlier,
        duration_minutes=30,
        actor=csm,
    )
    titles = list(TimelineEntry.objects.filter(account=account).values_list("title", flat=True))
    assert titles == ["Latest thought", "Kick-off"]
    entry = TimelineEntry.objects.get(subject_id=meeting.pk, kind="meeting")
    assert entry.occurred_at == earlier and entry.data["duration_minutes"] == 30


def test_a_long_first_line_is_cut_for_the_title_and_kept_whole_in_the_body(csm, account):
    text = "word " * 60
    services.log_engagement(account=account, kind="note", body=text, actor=csm)
    entry = TimelineEntry.objects.get(account=account)
    assert len(entry.title) == 120 and entry.title.endswith("…")
    assert entry.body == text.strip()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"kind": "fax", "body": "x"}, "kind"),
        ({"kind": "note", "body": "   "}, "body"),
        ({"kind": "meeting"}, "subject"),
        ({"kind": "call", "subject": "x", "duration_minutes": 0}, "duration_minutes"),
        ({"kind": "call", "subject": "x", "duration_minutes": 5000}, "duration_minutes"),
        ({"kind": "note", "body": "x", "occurred_at": datetime(2026, 1, 1)}, "occurred_at"),
    ],
)
def test_log_engagement_rejects_bad_input_and_writes_nothing(csm, account, kwargs, field):
    with pytest.raises(ValidationError) as error:
        services.log_engagement(account=account, actor=csm, **kwargs)
    assert field in error.value.message_dict
    assert not Engagement.objects.exists()


def test_a_failure_after_the_write_rolls_back_everything(csm, account, monkeypatch):
    def broken_audit(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "record_audit", broken_audit)
    with pytest.raises(RuntimeError):
        services.log_engagement(account=account, kind="note", body="lost?", actor=csm)
    assert not Engagement.objects.exists()
    assert not TimelineEntry.objects.filter(kind="note").exists()


def test_unregistered_timeline_kinds_still_show():
    info = kind_info("something_new")
    assert info.label == "something_new" and info.icon


def test_apps_register_their_own_kinds_with_a_translated_description(account):
    register_kind(
        "test_renewal", label="Renewal", icon="R", describe=lambda e: f"Renewed for {e.data['years']} years"
    )
    entry = services.record_on_timeline(
        account=account, kind="test_renewal", title="Renewed", data={"years": 2}
    )
    assert entry_title(entry) == "Renewed for 2 years"


@given(
    when=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)),
    entry_id=st.integers(min_value=1, max_value=2**62),
)
def test_timeline_cursor_round_trips(when, entry_id):
    cursor = TimelineCursor(occurred_at=when, entry_id=entry_id)
    assert TimelineCursor.decode(cursor.encode()) == cursor


@given(st.text(max_size=60))
def test_decoding_any_text_as_a_cursor_never_raises(text):
    TimelineCursor.decode(text)


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=80))
def test_domain_cleaning_either_normalises_or_names_the_field(text):
    try:
        domain = services.clean_domain(text)
    except ValidationError as error:
        assert list(error.message_dict) == ["domain"]
    else:
        assert domain == domain.strip().lower() and " " not in domain


def test_timeline_entries_at_the_same_moment_keep_a_stable_order(csm, account):
    moment = datetime(2026, 3, 1, tzinfo=UTC)
    for index in range(3):
        services.log_engagement(account=account, kind="note", body=f"n{index}", occurred_at=moment, actor=csm)
    services.log_engagement(
        account=account, kind="note", body="later", occurred_at=moment + timedelta(seconds=1), actor=csm
    )
    titles = list(TimelineEntry.objects.filter(account=account).values_list("title", flat=True))
    assert titles == ["later", "n2", "n1", "n0"]
