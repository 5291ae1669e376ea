"""People managed by admins: invitations, roles, deactivation and resets (the services)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from touchpoint.users import people
from touchpoint.users.models import AuditLogEntry, SignInLink, SignInLinkPurpose, User
from touchpoint.users.people_selectors import people as people_rows
from touchpoint.users.people_selectors import status_of
from touchpoint.users.roles import Role
from touchpoint.users.selectors import user_for_api_key
from touchpoint.users.services import create_api_key

pytestmark = pytest.mark.django_db
PASSWORD = "a long enough passphrase"


def errors_of(raised) -> dict:
    return raised.value.message_dict


def invite(admin, email="new@example.com", role=Role.CSM, **extra):
    return people.invite_user(email=email, role=role, actor=admin, **extra)


def test_an_invitation_makes_an_inactive_user_with_a_hashed_token(admin_user):
    user, raw = invite(admin_user, email=" New@Example.com ", full_name="Nia New", language="ru")
    user.refresh_from_db()
    assert (user.email, user.full_name, user.language, user.role) == (
        "new@example.com",
        "Nia New",
        "ru",
        Role.CSM,
    )
    assert not user.is_active and not user.has_usable_password()
    link = SignInLink.objects.get(user=user)
    assert link.purpose == SignInLinkPurpose.INVITE and link.token_hash == people.hash_link_token(raw)
    assert raw not in link.token_hash
    assert abs(link.expires_at - (link.created_at + timedelta(days=7))) < timedelta(seconds=1)
    assert status_of(user) == "invited"
    entry = AuditLogEntry.objects.get(action="user.invite")
    assert (
        entry.actor == admin_user
        and entry.changes["role"] == "csm"
        and entry.changes["email"] == "new@example.com"
    )
    assert raw not in str(entry.changes)


def test_the_expiry_follows_the_setting(admin_user, settings):
    settings.TOUCHPOINT_INVITATION_DAYS = 2
    user, _raw = invite(admin_user)
    link = SignInLink.objects.get(user=user)
    assert abs(link.expires_at - link.created_at - timedelta(days=2)) < timedelta(seconds=1)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"email": "not an email"}, "email"),
        ({"email": "CSM@example.com"}, "email"),  # already a user (any case)
        ({"role": "owner"}, "role"),
        ({"language": "xx"}, "language"),
        ({"full_name": "x" * 201}, "full_name"),
    ],
)
def test_a_bad_invitation_names_the_field_and_writes_nothing(admin_user, csm, fields, field):
    users, entries = User.objects.count(), AuditLogEntry.objects.count()
    with pytest.raises(ValidationError) as raised:
        people.invite_user(**{"email": "x@example.com", "role": Role.CSM, "actor": admin_user, **fields})
    assert field in errors_of(raised)
    assert (User.objects.count(), AuditLogEntry.objects.count(), SignInLink.objects.count()) == (
        users,
        entries,
        0,
    )


def test_the_link_sets_a_password_once_and_activates(admin_user):
    user, raw = invite(admin_user)
    with pytest.raises(ValidationError) as raised:
        people.use_sign_in_link(raw_token=raw, password="short")
    assert "password" in errors_of(raised)
    assert people.link_state(raw).usable
    signed_up = people.use_sign_in_link(raw_token=raw, password=PASSWORD)
    assert signed_up.pk == user.pk and signed_up.is_active and signed_up.check_password(PASSWORD)
    assert people.link_state(raw).state == "used"
    with pytest.raises(ValidationError) as raised:
        people.use_sign_in_link(raw_token=raw, password="another long passphrase")
    assert "token" in errors_of(raised) and "already been used" in errors_of(raised)["token"][0]
    assert Client().login(username=user.email, password=PASSWORD)
    assert AuditLogEntry.objects.filter(action="user.invite_accept", actor=user).count() == 1
    assert not any(PASSWORD in str(e.changes) for e in AuditLogEntry.objects.all())


def test_an_expired_link_says_so(admin_user):
    user, raw = invite(admin_user)
    SignInLink.objects.filter(user=user).update(expires_at=timezone.now() + timedelta(seconds=30))
    assert people.link_state(raw).usable
    SignInLink.objects.filter(user=user).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert people.link_state(raw).state == "expired"
    with pytest.raises(ValidationError) as raised:
        people.use_sign_in_link(raw_token=raw, password=PASSWORD)
    assert "expired" in errors_of(raised)["token"][0]
    assert not User.objects.get(pk=user.pk).is_active


def test_an_unknown_token_is_unknown(db):
    assert people.link_state("nothing-like-it").state == "unknown"
    assert people.link_state("").state == "unknown"
    assert people.link_state("x" * 5000).state == "unknown"


def test_resending_voids_the_old_link(admin_user):
    user, first = invite(admin_user)
    second = people.resend_invitation(user=user, actor=admin_user)
    assert people.link_state(first).state == "revoked" and people.link_state(second).usable
    with pytest.raises(ValidationError):
        people.use_sign_in_link(raw_token=first, password=PASSWORD)
    people.use_sign_in_link(raw_token=second, password=PASSWORD)
    with pytest.raises(ValidationError) as raised:
        people.resend_invitation(user=user, actor=admin_user)
    assert "user" in errors_of(raised)


def test_role_changes_are_audited_from_and_to(admin_user, csm):
    people.change_role(user=csm, role=Role.CS_LEADER, actor=admin_user)
    assert User.objects.get(pk=csm.pk).role == Role.CS_LEADER
    entry = AuditLogEntry.objects.get(action="user.role")
    assert entry.changes == {"role": ["csm", "cs_leader"]} and entry.actor == admin_user
    people.change_role(user=csm, role=Role.CS_LEADER, actor=admin_user)  # no change: no entry
    assert AuditLogEntry.objects.filter(action="user.role").count() == 1
    with pytest.raises(ValidationError) as raised:
        people.change_role(user=csm, role="boss", actor=admin_user)
    assert "role" in errors_of(raised)


def test_the_last_active_admin_keeps_the_role_and_stays_active(admin_user, csm):
    with pytest.raises(ValidationError) as raised:
        people.change_role(user=admin_user, role=Role.CSM, actor=admin_user)
    assert "last active admin" in errors_of(raised)["role"][0]
    people.change_role(user=csm, role=Role.ADMIN, actor=admin_user)
    with pytest.raises(ValidationError) as raised:
        people.deactivate_user(user=admin_user, actor=admin_user)
    assert "yourself" in errors_of(raised)["user"][0]
    people.deactivate_user(user=csm, actor=admin_user)  # another admin, while one stays
    with pytest.raises(ValidationError) as raised:
        people.deactivate_user(user=admin_user, actor=None)
    assert "last active admin" in errors_of(raised)["user"][0]
    # A deactivated admin does not count: the remaining one cannot be demoted either.
    with pytest.raises(ValidationError):
        people.change_role(user=admin_user, role=Role.VIEWER, actor=None)
    assert User.objects.get(pk=admin_user.pk).role == Role.ADMIN


def test_deactivation_ends_sessions_and_api_keys_at_once(admin_user, csm):
    _key, raw_key = create_api_key(user=csm)
    assert user_for_api_key(raw_key) == csm
    browser = Client()
    browser.force_login(csm)
    other = Client()
    other.force_login(admin_user)
    assert browser.get("/my-settings/").status_code == 200
    people.deactivate_user(user=csm, actor=admin_user)
    assert user_for_api_key(raw_key) is None
    assert browser.get("/my-settings/").status_code == 302  # signed out
    assert not Client().login(username=csm.email, password="correct horse battery staple")
    assert other.get("/my-settings/").status_code == 200  # the admin's own session lives on
    assert Session.objects.count() == 1
    entry = AuditLogEntry.objects.get(action="user.deactivate")
    assert entry.changes["sessions_ended"] == 1 and entry.actor == admin_user
    csm.refresh_from_db()
    assert status_of(csm) == "deactivated"
    people.reactivate_user(user=csm, actor=admin_user)
    assert user_for_api_key(raw_key) == csm
    assert AuditLogEntry.objects.filter(action="user.reactivate").count() == 1


def test_withdrawing_an_invitation_voids_its_link(admin_user):
    user, raw = invite(admin_user)
    people.deactivate_user(user=user, actor=admin_user)
    user.refresh_from_db()
    assert people.link_state(raw).state == "revoked" and status_of(user) == "deactivated"


def test_a_reset_link_sets_a_new_password_and_ends_other_sessions(admin_user, csm):
    browser = Client()
    browser.force_login(csm)
    raw = people.start_password_reset(user=csm, actor=admin_user)
    assert Client().login(
        username=csm.email, password="correct horse battery staple"
    )  # still works until used
    people.use_sign_in_link(raw_token=raw, password=PASSWORD)
    assert Client().login(username=csm.email, password=PASSWORD)
    assert not Client().login(username=csm.email, password="correct horse battery staple")
    assert browser.get("/my-settings/").status_code == 302  # the session of the old password ended
    # (sign-ins and failed sign-ins are audited too: only the people changes are compared here)
    assert [e.action for e in AuditLogEntry.objects.filter(action__startswith="user.").order_by("id")][
        -2:
    ] == [
        "user.password_reset",
        "user.password_set",
    ]
    people.deactivate_user(user=csm, actor=admin_user)
    with pytest.raises(ValidationError) as raised:
        people.start_password_reset(user=csm, actor=admin_user)
    assert "user" in errors_of(raised)


def test_deactivating_voids_an_open_reset_link(admin_user, csm):
    raw = people.start_password_reset(user=csm, actor=admin_user)
    people.deactivate_user(user=csm, actor=admin_user)
    assert people.link_state(raw).state == "revoked"
    people.reactivate_user(user=csm, actor=admin_user)
    assert people.link_state(raw).state == "revoked"


def test_the_list_filters_by_role_status_and_search(admin_user, csm, viewer):
    invited, _raw = invite(admin_user, email="ivy@example.com", full_name="Ivy Invited")
    people.deactivate_user(user=viewer, actor=admin_user)
    assert {u.email for u in people_rows(status="invited")} == {"ivy@example.com"}
    assert {u.email for u in people_rows(status="deactivated")} == {"viewer@example.com"}
    assert {u.email for u in people_rows(status="active")} == {"admin@example.com", "csm@example.com"}
    assert {u.email for u in people_rows(role="csm")} == {"csm@example.com", "ivy@example.com"}
    assert {u.email for u in people_rows(search="IVY")} == {"ivy@example.com"}
    assert {u.email for u in people_rows(search="invited")} == {"ivy@example.com"}
    assert len(people_rows(role="nonsense")) == 4


def test_no_other_string_opens_a_link(admin_user):
    """Only the exact token that was emailed works; anything else is unknown, and never an error."""
    _user, raw = invite(admin_user, email="guess@example.com")

    @settings(max_examples=60, deadline=None)
    @given(guess=st.text(max_size=120) | st.just(raw[:-1]) | st.just(raw + "x") | st.just(raw.upper()))
    def check(guess: str) -> None:
        assert people.link_state(guess).state == ("valid" if guess == raw else "unknown")

    check()
    assert people.link_state(raw).usable
