"""The demo company as people meet it: segments, roles and scripts, unique names, a timeline that fits
its window, engagements and creation entries as the services write them, phases by age, the demo users
and account teams. One company per module (built once, read by every test, removed at the end)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.auth import authenticate
from django.contrib.contenttypes.models import ContentType
from django.db.models import Count

from tests.conftest import demo_once_per_module
from touchpoint.accounts.models import (
    Account,
    Contact,
    ContactRole,
    ContactRoleAssignment,
    Engagement,
    EngagementKind,
    EngagementModel,
    Segment,
    TimelineEntry,
)
from touchpoint.demo import builders
from touchpoint.success.models import AccountPlacement, SuccessFramework
from touchpoint.users.models import User
from touchpoint.users.roles import Role

pytestmark = pytest.mark.django_db

TODAY = date(2026, 3, 2)
DAYS = 120
SMALL = ["--accounts=40", f"--days={DAYS}", f"--today={TODAY.isoformat()}"]

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
CYRILLIC = re.compile(r"[\u0400-\u04ff]")
THAI = re.compile(r"[\u0e00-\u0e7f]")


company = demo_once_per_module(*SMALL)


def test_the_company_has_segments_groups_roles_and_four_scripts(company):
    assert list(Segment.objects.order_by("tier").values_list("name", "tier")) == [
        ("Enterprise", 1),
        ("Mid-market", 2),
        ("SMB", 3),
    ]
    assert Account.objects.count() == 40
    assert set(Account.objects.values_list("segment__name", flat=True)) == {"Enterprise", "Mid-market", "SMB"}
    children = Account.objects.exclude(parent=None).select_related("parent__segment")
    assert children.exists()
    assert {child.parent.segment.name for child in children} == {"Enterprise"}
    assert all(child.domain.endswith("." + child.parent.domain) for child in children)

    enterprise = Account.objects.filter(segment__name="Enterprise", parent=None)
    assert enterprise.filter(engagement_model=EngagementModel.HIGH_TOUCH).count() > enterprise.count() / 2
    smb = Account.objects.filter(segment__name="SMB")
    assert smb.filter(engagement_model=EngagementModel.LOW_TOUCH).count() > smb.count() / 2

    assert set(ContactRoleAssignment.objects.values_list("role", flat=True)) == set(ContactRole.values)
    people = Account.objects.annotate(people=Count("contacts")).values_list("people", flat=True)
    assert all(2 <= count <= 8 for count in people)
    champions = ContactRoleAssignment.objects.filter(role=ContactRole.CHAMPION).values("contact__account")
    assert champions.annotate(n=Count("id")).filter(n__gt=1).count() == 0
    assert champions.count() == 40
    assert ContactRoleAssignment.objects.filter(role=ContactRole.DECISION_MAKER).count() >= 40

    texts = [*Account.objects.values_list("name", flat=True), *Contact.objects.values_list("name", flat=True)]
    for script in (JAPANESE, CYRILLIC, THAI):
        assert any(script.search(text) for text in texts), script.pattern
    assert Account.objects.exclude(name__regex=r"[\u0400-\u04ff\u0e00-\u0e7f\u3040-\u9fff]").exists()


def test_names_domains_and_ids_are_unique_and_valid(company):
    accounts = list(Account.objects.all())
    assert len({a.domain for a in accounts}) == len({a.external_id for a in accounts}) == len(accounts)
    assert all(re.fullmatch(r"acct_\d{6}", a.external_id) for a in accounts)
    for instance in [*accounts, *Contact.objects.all(), *Engagement.objects.all()[:200]]:
        instance.full_clean()  # lengths, emails, choices and unique keys as the forms would check them


def test_the_timeline_covers_the_window_and_nothing_in_the_future(company):
    window_start = datetime(TODAY.year, TODAY.month, TODAY.day, tzinfo=UTC) - timedelta(days=DAYS)
    window_end = window_start + timedelta(days=DAYS)
    first = TimelineEntry.objects.order_by("occurred_at").first().occurred_at
    last = TimelineEntry.objects.order_by("-occurred_at").first().occurred_at
    assert window_start <= first < window_start + timedelta(days=3)
    assert window_end - timedelta(days=7) < last < window_end
    assert not Engagement.objects.filter(occurred_at__gte=window_end).exists()
    assert set(Engagement.objects.values_list("kind", flat=True)) == set(EngagementKind.values)


def test_every_engagement_has_its_timeline_entry_as_log_engagement_writes_it(company):
    engagement_type = ContentType.objects.get_for_model(Engagement)
    touches = TimelineEntry.objects.filter(kind__in=EngagementKind.values)
    entries = {entry.subject_id: entry for entry in touches}
    engagements = list(Engagement.objects.prefetch_related("contacts"))
    assert len(entries) == len(engagements) == touches.count()
    assert engagements
    for engagement in engagements:
        entry = entries[engagement.pk]
        assert entry.subject_type_id == engagement_type.pk
        assert (
            entry.account_id,
            entry.kind,
            entry.title,
            entry.body,
            entry.occurred_at,
            entry.actor_id,
            entry.created_at,
        ) == (
            engagement.account_id,
            engagement.kind,
            engagement.subject,
            engagement.body,
            engagement.occurred_at,
            engagement.author_id,
            engagement.created_at,
        )
        people = sorted(contact.name for contact in engagement.contacts.all())
        assert all(contact.account_id == engagement.account_id for contact in engagement.contacts.all())
        if engagement.duration_minutes or people:
            assert entry.data["duration_minutes"] == engagement.duration_minutes
            assert sorted(entry.data["contacts"]) == people
        else:
            assert entry.data == {}
    assert Engagement.objects.filter(kind=EngagementKind.MEETING, duration_minutes=None).count() == 0
    assert Engagement.objects.filter(kind=EngagementKind.MEETING).exclude(contacts=None).exists()


def test_accounts_and_contacts_have_their_creation_entries(company):
    for account in Account.objects.all():
        created = TimelineEntry.objects.get(account=account, kind="account_created")
        assert (created.occurred_at, created.title, created.data, created.subject) == (
            account.created_at,
            "Account created",
            {},
            account,
        )
    added = TimelineEntry.objects.filter(kind="contact_added")
    assert added.count() == Contact.objects.count()
    contact = Contact.objects.order_by("email").first()
    entry = added.get(subject_id=contact.pk)
    assert entry.data == {"name": contact.name, "roles": contact.role_values}
    assert entry.occurred_at == contact.created_at >= contact.account.created_at


def test_the_lifecycle_phase_follows_the_account_age(company):
    end = datetime(TODAY.year, TODAY.month, TODAY.day, tzinfo=UTC)
    placements = AccountPlacement.objects.select_related("account", "phase", "framework")
    assert placements.count() == Account.objects.count()
    for placement in placements:
        age = (end - placement.account.created_at).days
        assert placement.phase.framework_id == placement.framework_id
        assert placement.account.created_at <= placement.entered_at < end
        if age < 21:
            assert placement.phase.name in {"Onboarding", "Activation"}
        if age >= 90 and placement.framework.name == "Standard":
            assert placement.phase.name in {"Adoption", "Renewal"}
    # Written as success.services.place_account writes it: with its timeline entry.
    entries = TimelineEntry.objects.filter(kind="phase_changed")
    assert entries.count() == placements.count()
    entry = entries.select_related("account__placement__phase").first()
    assert entry.subject_id == entry.account.placement.pk
    assert entry.occurred_at == entry.account.placement.entered_at
    assert entry.data["changes"]["phase"] == [None, entry.account.placement.phase.name]
    assert SuccessFramework.objects.get(is_default=True).name == "Standard"
    assert list(SuccessFramework.objects.get(name="Standard").phases.values_list("name", flat=True)) == [
        "Onboarding",
        "First use",
        "Adoption",
        "Renewal",
    ]
    assert SuccessFramework.objects.get(name="Self-serve").phases.count() < 4
    assert not SuccessFramework.objects.get(name="Standard").phases.filter(customer_does="").exists()


def test_the_demo_users_exist_with_their_roles_and_sign_in_with_the_printed_password(company):
    out = company
    users = User.objects.filter(email__endswith="@demo.touchpoint.local")
    roles = {user.email: user.role for user in users}
    assert roles["admin@demo.touchpoint.local"] == Role.ADMIN
    assert roles["leader@demo.touchpoint.local"] == Role.CS_LEADER
    assert roles["viewer@demo.touchpoint.local"] == Role.VIEWER
    assert list(roles.values()).count(Role.CSM) >= 6
    names = set(users.values_list("full_name", flat=True))
    assert {"佐藤 美咲", "Анна Смирнова", "สมชาย ใจดี"} <= names
    for user in users:
        line = next(line for line in out.splitlines() if user.email in line)
        password = line.split()[1]
        assert password == builders.DEMO_PASSWORD
        assert authenticate(email=user.email, password=password) == user
    owners = set(Account.objects.exclude(owner=None).values_list("owner__email", flat=True))
    assert owners <= {u.email for u in users if u.role == Role.CSM}
    assert "Demo company loaded in" in out and "40 accounts" in out


def test_high_touch_accounts_have_account_teams_written_as_the_service_writes_them(company):
    from touchpoint.accounts.models import AccountTeamMember, EngagementModel

    members = list(AccountTeamMember.objects.select_related("account", "user"))
    assert members, "the demo should show books of business beyond the owner"
    assert all(m.account.engagement_model == EngagementModel.HIGH_TOUCH for m in members)
    assert all(m.user_id != m.account.owner_id for m in members)
    assert {m.role for m in members} <= {"csm", "executive_sponsor"}
    window_end = datetime(TODAY.year, TODAY.month, TODAY.day, tzinfo=UTC)
    entries = TimelineEntry.objects.filter(kind="team_member_added")
    assert entries.count() == len(members)
    assert all(m.account.created_at <= m.added_at < window_end for m in members)
