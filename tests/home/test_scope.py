"""Whose day the home page shows: a CSM their book, a leader their team's, one person on request."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import AccountFactory, UserFactory
from touchpoint.home.sections import home_sections
from touchpoint.home.selectors import scope_for, switchable_people
from touchpoint.users.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def owners_section(settings, tmp_path):
    """A section that lists the owner of each account the page covers."""
    from touchpoint.accounts.models import Account

    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "test_owners.html").write_text(
        "{% for name in data.items %}<b>{{ name }}</b>{% endfor %}"
    )
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path]}]  # a new list: resets the engines
    home_sections.add(
        key="test-owners",
        title="Accounts",
        template="home/test_owners.html",
        items=lambda scope: {
            "items": sorted(Account.objects.filter(scope.accounts_q()).values_list("name", flat=True))
        },
        order=999,
    )
    yield
    home_sections.remove("test-owners")


@pytest.fixture
def team(leader):
    ann = UserFactory(full_name="Ann Report", reports_to=leader)
    bob = UserFactory(full_name="Bob Report", reports_to=leader)
    stranger = UserFactory(full_name="Cy Elsewhere")
    AccountFactory(name="Ann's", owner=ann)
    AccountFactory(name="Bob's", owner=bob)
    AccountFactory(name="Cy's", owner=stranger)
    AccountFactory(name="Lead's", owner=leader)
    return ann, bob, stranger


def test_a_leader_sees_their_own_and_their_reports_books(client, leader, team, owners_section):
    ann, bob, _stranger = team
    assert scope_for(leader).owner_ids == frozenset({leader.pk, ann.pk, bob.pk})
    client.force_login(leader)
    page = client.get(reverse("my-day")).content.decode()
    assert "<b>Ann&#x27;s</b>" in page and "<b>Bob&#x27;s</b>" in page and "<b>Lead&#x27;s</b>" in page
    assert "Cy&#x27;s" not in page


def test_a_leader_opens_one_person_of_their_team(client, leader, team, owners_section):
    ann, _bob, _stranger = team
    client.force_login(leader)
    page = client.get(reverse("my-day"), {"owner": ann.pk}).content.decode()
    assert "<b>Ann&#x27;s</b>" in page and "Bob&#x27;s" not in page
    assert "The book of Ann Report" in page


@pytest.mark.parametrize("owner", ["not-a-number", "999999", "stranger"])
def test_a_leader_cannot_open_someone_outside_their_team(client, leader, team, owner, owners_section):
    _ann, _bob, stranger = team
    client.force_login(leader)
    value = stranger.pk if owner == "stranger" else owner
    response = client.get(reverse("my-day"), {"owner": value})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Choose someone of your team." in page and "Cy&#x27;s" not in page


def test_a_csm_cannot_open_someone_elses_day(client, csm, leader, team):
    ann, _bob, _stranger = team
    client.force_login(csm)
    assert client.get(reverse("my-day"), {"owner": ann.pk}).status_code == 400


def test_a_leader_without_reports_sees_everything_and_may_open_any_csm(leader, team):
    other_leader = UserFactory(role=Role.CS_LEADER)
    assert scope_for(other_leader).owner_ids is None
    assert set(switchable_people(other_leader)) >= set(team)


def test_admins_and_viewers_cover_every_account_they_may_read(admin_user, viewer):
    assert scope_for(admin_user).owner_ids is None
    assert scope_for(viewer).owner_ids is None
    assert not switchable_people(viewer).exists()


def test_the_owner_select_lists_the_team(client, leader, team):
    client.force_login(leader)
    page = client.get(reverse("my-day")).content.decode()
    assert 'name="owner"' in page and "Ann Report" in page and "Cy Elsewhere" not in page


def test_reports_to_and_the_digest_language_are_set_in_the_admin(client, admin_user, leader, csm):
    from touchpoint.users.models import User

    client.force_login(admin_user)
    url = reverse("admin:users_user_change", args=[csm.pk])
    page = client.get(url).content.decode()
    assert 'name="reports_to"' in page and 'value="ja"' in page
    response = client.post(
        url,
        {
            "email": csm.email,
            "full_name": csm.full_name,
            "reports_to": leader.pk,
            "language": "ja",
            "receive_daily_digest": "on",
            "is_active": "on",
            "groups": [group.pk for group in csm.groups.all()],
            "last_login_0": "",
            "last_login_1": "",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "09:00:00",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    csm = User.objects.get(pk=csm.pk)
    assert csm.reports_to == leader and csm.language == "ja"
    assert list(leader.reports.all()) == [csm]
