"""Books of business: the account team, who changes what, and who hands an account to another owner."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from tests.conftest import Api, assert_api_error, logged_in_client
from tests.factories import AccountFactory, ContactFactory, UserFactory
from touchpoint.accounts import services
from touchpoint.accounts.models import Account, AccountTeamMember, TeamRole, TimelineEntry
from touchpoint.users.models import AuditLogEntry
from touchpoint.users.roles import Role
from touchpoint.users.services import create_api_key

pytestmark = pytest.mark.django_db


def api_as(user) -> Api:
    return Api(create_api_key(user=user)[1])


# --- Services ---------------------------------------------------------------------------------


def test_adding_a_team_member_puts_the_account_in_their_book(book):
    newcomer = UserFactory(role=Role.CSM, full_name="Nina Newcomer")
    assert not newcomer.has_perm("accounts.change_account", book.account)
    member = services.add_team_member(
        account=book.account, user=newcomer, role=TeamRole.EXECUTIVE_SPONSOR, actor=book.owner
    )
    assert member.role == "executive_sponsor"
    assert newcomer.has_perm("accounts.change_account", book.account)
    entry = TimelineEntry.objects.get(account=book.account, kind="team_member_added")
    assert entry.actor == book.owner and entry.data["email"] == newcomer.email
    assert "Nina Newcomer" in entry.title
    assert AuditLogEntry.objects.filter(action="account.team.add", object_id=str(book.account.pk)).exists()


def test_removing_a_team_member_takes_the_account_out_of_their_book(book):
    assert book.teammate.has_perm("accounts.change_account", book.account)
    services.remove_team_member(account=book.account, user=book.teammate, actor=book.leader)
    assert not AccountTeamMember.objects.filter(account=book.account, user=book.teammate).exists()
    assert not book.teammate.has_perm("accounts.change_account", book.account)
    assert TimelineEntry.objects.filter(account=book.account, kind="team_member_removed").exists()
    assert AuditLogEntry.objects.filter(action="account.team.remove").exists()


def test_a_team_has_each_person_once_and_never_the_owner(book):
    with pytest.raises(ValidationError) as duplicate:
        services.add_team_member(account=book.account, user=book.teammate, actor=book.owner)
    assert duplicate.value.error_dict["user"][0].code == "unique"
    with pytest.raises(ValidationError):
        services.add_team_member(account=book.account, user=book.owner, actor=book.owner)
    with pytest.raises(ValidationError):
        services.add_team_member(account=book.account, user=book.outsider, role="boss", actor=book.owner)
    with pytest.raises(ValidationError):
        services.remove_team_member(account=book.account, user=book.outsider, actor=book.owner)


def test_only_leaders_and_admins_hand_an_account_to_another_owner(book):
    with pytest.raises(PermissionDenied):
        services.update_account(account=book.account, actor=book.owner, owner=book.teammate)
    with pytest.raises(PermissionDenied):
        services.create_account(name="Mine?", owner=book.teammate, actor=book.owner)
    assert services.create_account(name="Mine", owner=book.owner, actor=book.owner).owner == book.owner
    services.update_account(account=book.account, actor=book.leader, owner=book.teammate)
    assert Account.objects.get(pk=book.account.pk).owner == book.teammate


# --- Who changes what -------------------------------------------------------------------------


def test_a_csm_changes_only_the_accounts_of_their_book(book):
    contact = ContactFactory(account=book.account)
    for person, allowed in [
        (book.owner, True),
        (book.teammate, True),
        (book.outsider, False),
        (book.viewer, False),
        (book.leader, True),
        (book.admin, True),
    ]:
        assert person.has_perm("accounts.change_account", book.account) is allowed, person
        assert person.has_perm("accounts.change_contact", contact) is allowed, person
        assert person.has_perm("accounts.add_engagement", book.account) is allowed, person
        assert person.has_perm("revenue.add_subscription", book.account) is allowed, person


def test_an_outsider_gets_403_and_never_data_from_the_api(book, own_books_only):
    outsider = api_as(book.outsider)
    assert_api_error(outsider.get(f"/accounts/{book.account.pk}"), 403)
    assert_api_error(outsider.send("patch", f"/accounts/{book.account.pk}", {"name": "Mine now"}), 403)
    listed = outsider.get("/accounts").json()
    assert listed == {"items": [], "count": 0}
    assert Account.objects.get(pk=book.account.pk).name != "Mine now"


def test_with_the_setting_on_an_outsider_reads_but_does_not_write(book):
    outsider = api_as(book.outsider)
    assert outsider.get(f"/accounts/{book.account.pk}").json()["name"] == book.account.name
    assert_api_error(outsider.send("patch", f"/accounts/{book.account.pk}", {"name": "Mine now"}), 403)
    page = logged_in_client(book.outsider).get(reverse("account-detail", args=[book.account.pk]))
    body = page.content.decode()
    assert page.status_code == 200 and "Edit account" not in body and 'name="subject"' not in body


def test_the_owner_sees_the_owner_field_disabled_and_a_leader_reassigns_on_the_page(book):
    page = logged_in_client(book.owner).get(reverse("account-detail", args=[book.account.pk]))
    assert (
        'name="owner" disabled' in page.content.decode() or 'disabled name="owner"' in page.content.decode()
    )
    response = logged_in_client(book.leader).post(
        reverse("account-edit", args=[book.account.pk]),
        {
            "name": book.account.name,
            "domain": book.account.domain,
            "owner": book.teammate.pk,
            "segment": book.account.segment_id or "",
            "engagement_model": book.account.engagement_model,
            "phase": "",
        },
    )
    assert response.status_code == 302
    assert Account.objects.get(pk=book.account.pk).owner == book.teammate


# --- The team section of the account page ----------------------------------------------------


def test_the_owner_adds_and_removes_team_members_on_the_page(book):
    newcomer = UserFactory(role=Role.CSM, full_name="Nina Newcomer")
    client = logged_in_client(book.owner)
    url = reverse("account-team", args=[book.account.pk])
    added = client.post(url, {"action": "add", "user": newcomer.pk, "role": "csm"}, HTTP_HX_REQUEST="true")
    on_team = '<span class="team-name">Nina Newcomer</span>'
    assert added.status_code == 200 and on_team in added.content.decode()
    assert AccountTeamMember.objects.filter(account=book.account, user=newcomer).exists()
    removed = client.post(url, {"action": "remove", "user": newcomer.pk}, HTTP_HX_REQUEST="true")
    assert removed.status_code == 200 and on_team not in removed.content.decode()
    assert not AccountTeamMember.objects.filter(account=book.account, user=newcomer).exists()


def test_a_teammate_sees_the_team_but_cannot_change_it(book):
    client = logged_in_client(book.teammate)
    page = client.get(reverse("account-detail", args=[book.account.pk])).content.decode()
    assert "teammate@example.com" in page or str(book.teammate) in page
    assert "Add to the team" not in page
    url = reverse("account-team", args=[book.account.pk])
    assert client.post(url, {"action": "add", "user": book.outsider.pk}).status_code == 403
    assert client.post(url, {"action": "remove", "user": book.teammate.pk}).status_code == 403
    assert AccountTeamMember.objects.filter(account=book.account).count() == 1


def test_bad_team_posts_are_clear_4xx(book):
    client = logged_in_client(book.owner)
    url = reverse("account-team", args=[book.account.pk])
    assert client.post(url, {"action": "dance"}).status_code == 400
    assert client.post(url, {"action": "remove", "user": "²"}).status_code == 400
    assert client.post(url, {"action": "remove", "user": book.outsider.pk}).status_code == 404
    duplicate = client.post(url, {"action": "add", "user": book.teammate.pk, "role": "csm"})
    assert duplicate.status_code == 422


# --- The team in the API ----------------------------------------------------------------------


def test_the_team_api_lists_adds_and_removes(book):
    owner = api_as(book.owner)
    listed = owner.get(f"/accounts/{book.account.pk}/team").json()
    assert listed["owner"]["id"] == book.owner.pk
    assert [(m["user"]["id"], m["role"]) for m in listed["items"]] == [(book.teammate.pk, "csm")]
    assert listed["count"] == 1
    added = owner.send("post", f"/accounts/{book.account.pk}/team", {"user": book.viewer.pk, "role": "other"})
    assert added.status_code == 201 and added.json()["user"]["id"] == book.viewer.pk
    assert_api_error(
        owner.send("post", f"/accounts/{book.account.pk}/team", {"user": book.viewer.pk}), 409, "user"
    )
    assert_api_error(owner.send("post", f"/accounts/{book.account.pk}/team", {"user": 999999}), 422, "user")
    assert_api_error(
        owner.send("post", f"/accounts/{book.account.pk}/team", {"user": book.outsider.pk, "role": "x"}),
        422,
        "role",
    )
    assert owner.send("delete", f"/accounts/{book.account.pk}/team/{book.viewer.pk}").status_code == 204
    assert_api_error(owner.send("delete", f"/accounts/{book.account.pk}/team/{book.viewer.pk}"), 404)
    teammate = api_as(book.teammate)
    assert_api_error(teammate.send("delete", f"/accounts/{book.account.pk}/team/{book.teammate.pk}"), 403)


def test_a_teammate_lists_their_accounts_when_csms_read_only_their_book(book, own_books_only):
    other = AccountFactory(name="Someone else's")
    names = {item["name"] for item in api_as(book.teammate).get("/accounts").json()["items"]}
    assert book.account.name in names and other.name not in names


def test_an_owner_who_left_does_not_stop_the_team_from_editing_the_account(book):
    book.owner.is_active = False
    book.owner.save()
    client = logged_in_client(book.teammate)
    response = client.post(
        reverse("account-edit", args=[book.account.pk]),
        {
            "name": "Renamed by the team",
            "domain": book.account.domain,
            "owner": book.owner.pk,
            "segment": book.account.segment_id or "",
            "engagement_model": book.account.engagement_model,
            "phase": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:500]
    book.account.refresh_from_db()
    assert (book.account.name, book.account.owner) == ("Renamed by the team", book.owner)


def test_the_remove_button_posts_back_an_id_past_a_thousand_as_written(book):
    # USE_THOUSAND_SEPARATOR is on: an id written localised ("12,345") would be posted back unreadable.
    member = UserFactory(pk=12345, role=Role.CSM, full_name="Thousands Tester")
    services.add_team_member(account=book.account, user=member, actor=book.owner, role="csm")
    client = logged_in_client(book.owner)
    url = reverse("account-team", args=[book.account.pk])
    page = client.get(reverse("account-detail", args=[book.account.pk])).content.decode()
    assert 'name="user" value="12345"' in page
    removed = client.post(url, {"action": "remove", "user": "12345"}, HTTP_HX_REQUEST="true")
    assert removed.status_code == 200
    assert not AccountTeamMember.objects.filter(account=book.account, user=member).exists()
