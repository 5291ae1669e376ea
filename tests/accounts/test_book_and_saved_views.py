"""The portfolio opens on a CSM's book; saved views keep filters and sort under a name."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from tests.conftest import logged_in_client
from tests.factories import AccountFactory, SegmentFactory, UserFactory
from touchpoint.accounts.models import AccountTeamMember, SavedView
from touchpoint.users.roles import Role

pytestmark = pytest.mark.django_db


def _names(response) -> set[str]:
    return {a.name for a in response.context["page"].object_list}


@pytest.fixture
def three_books(csm):
    other = UserFactory(role=Role.CSM)
    AccountFactory(name="Owned", owner=csm)
    team = AccountFactory(name="On the team", owner=other)
    AccountTeamMember.objects.create(account=team, user=csm)
    AccountFactory(name="Someone else's", owner=other)
    AccountFactory(name="Nobody's", owner=None)


def test_a_csm_opens_on_their_book_and_switches_to_all(csm_client, three_books):
    response = csm_client.get(reverse("portfolio"))
    assert _names(response) == {"Owned", "On the team"}
    page = response.content.decode()
    assert 'name="book"' in page and 'value="mine" selected' in page
    assert _names(csm_client.get(reverse("portfolio"), {"book": "all"})) == {
        "Owned",
        "On the team",
        "Someone else's",
        "Nobody's",
    }
    # Sorting keeps the book the page was showing (the sort links carry it).
    assert _names(csm_client.get(reverse("portfolio"), {"sort": "-name"})) == {"Owned", "On the team"}


def test_the_csv_export_follows_the_same_default(csm_client, three_books):
    text = b"".join(csm_client.get(reverse("portfolio-export")).streaming_content).decode("utf-8-sig")
    assert "Owned" in text and "Nobody's" not in text


def test_a_link_with_filters_but_no_book_means_every_readable_account(csm_client, three_books):
    assert _names(csm_client.get(reverse("portfolio"), {"owner": "none"})) == {"Nobody's"}


@pytest.mark.parametrize("role", [Role.CS_LEADER, Role.ADMIN, Role.VIEWER])
def test_leaders_admins_and_viewers_open_on_every_account(role, three_books):
    response = logged_in_client(UserFactory(role=role)).get(reverse("portfolio"))
    assert len(_names(response)) == 4


def test_a_csm_who_reads_only_their_book_gets_no_switch(csm, three_books, own_books_only):
    response = logged_in_client(csm).get(reverse("portfolio"), {"book": "all"})
    assert _names(response) == {"Owned", "On the team"}
    assert 'name="book"' not in response.content.decode()


def test_a_bad_book_value_is_shown_in_error_not_a_500(csm_client, three_books):
    response = csm_client.get(reverse("portfolio"), {"book": "everything"})
    assert response.status_code == 200 and "book" in response.context["form"].errors


def test_api_book_mine_lists_the_callers_book(api, three_books):
    body = api.get("/accounts", book="mine").json()
    assert {item["name"] for item in body["items"]} == {"Owned", "On the team"}
    assert api.get("/accounts").json()["count"] == 4
    assert api.get("/accounts", book="yours").status_code == 422


# --- Saved views ------------------------------------------------------------------------------


def _save(client, name, query, **extra):
    return client.post(reverse("saved-view-create"), {"name": name, "query": query, **extra})


def test_save_and_open_a_view(csm_client, csm, three_books):
    response = _save(csm_client, "Unowned by name", "book=all&owner=none&sort=-name&page=3&junk=1")
    view = SavedView.objects.get(user=csm)
    assert view.query == "book=all&owner=none&sort=-name"  # what the portfolio form knows, no page
    assert response.status_code == 302
    opened = csm_client.get(reverse("saved-view-open", args=[view.pk]))
    assert opened.status_code == 302 and opened["Location"] == reverse("portfolio") + "?" + view.query
    assert _names(csm_client.get(opened["Location"])) == {"Nobody's"}
    menu = csm_client.get(reverse("portfolio")).content.decode()
    assert "Unowned by name" in menu and reverse("saved-view-open", args=[view.pk]) in menu


@pytest.mark.parametrize(
    ("name", "error"),
    [("", "required"), ("   ", "required"), ("n" * 81, "at most 80"), ("v" * 100_000, "at most 80")],
)
def test_a_view_needs_a_name_of_at_most_80_characters(csm_client, name, error):
    response = _save(csm_client, name, "book=all")
    assert response.status_code == 422
    assert error in " ".join(response.context["save_form"].errors["name"])
    assert not SavedView.objects.exists()
    assert 'id="saved-views" open' in response.content.decode()


def test_a_name_is_unique_per_person_not_across_people(csm_client, csm, leader):
    assert _save(csm_client, "Renewals", "sort=renewal").status_code == 302
    response = _save(csm_client, "renewals", "sort=-renewal")
    assert (
        response.status_code == 422
        and "already have a view" in response.context["save_form"].errors["name"][0]
    )
    assert _save(logged_in_client(leader), "Renewals", "sort=renewal").status_code == 302


def test_a_too_long_query_is_refused_without_a_500(csm_client):
    response = _save(csm_client, "Long", "q=" + "x" * 5000)
    assert response.status_code == 422
    assert not SavedView.objects.exists()


def test_a_stale_filter_is_left_out_with_a_message(csm_client, csm, three_books):
    segment = SegmentFactory(name="Gone soon")
    _save(csm_client, "Old segment", f"book=all&segment={segment.pk}&sort=nosuchcolumn&engagement=high")
    view = SavedView.objects.get()
    assert "segment=" in view.query and "nosuchcolumn" not in view.query  # kept what was valid
    # Then the segment is deleted and the sort column's app uninstalled.
    segment.delete()
    SavedView.objects.filter(pk=view.pk).update(query=view.query + "&sort=nosuchcolumn")
    response = csm_client.get(reverse("saved-view-open", args=[view.pk]))
    assert response.status_code == 302
    assert "segment=" not in response["Location"] and "engagement=high" in response["Location"]
    message = [str(m) for m in get_messages(response.wsgi_request)][-1]
    assert "no longer apply" in message and "Segment" in message and "Sort" in message


def test_only_leaders_share_and_everyone_sees_shared_views(csm, leader, three_books):
    csm_client = logged_in_client(csm)
    _save(csm_client, "Mine only", "book=mine", shared="on")
    assert SavedView.objects.get(name="Mine only").shared is False  # the box is not offered to a CSM
    assert 'name="shared"' not in csm_client.get(reverse("portfolio")).content.decode()
    leader_client = logged_in_client(leader)
    assert 'name="shared"' in leader_client.get(reverse("portfolio")).content.decode()
    _save(leader_client, "Team view", "book=all&sort=-arr", shared="on")
    shared = SavedView.objects.get(name="Team view")
    assert shared.shared
    page = csm_client.get(reverse("portfolio")).content.decode()
    assert "Team view" in page and "Mine only" in page
    assert "Mine only" not in leader_client.get(reverse("portfolio")).content.decode()
    assert csm_client.get(reverse("saved-view-open", args=[shared.pk])).status_code == 302


def test_people_delete_their_own_views_only(csm, leader, outsider):
    mine = SavedView.objects.create(user=csm, name="Mine", query="")
    shared = SavedView.objects.create(user=leader, name="Shared", query="", shared=True)
    private = SavedView.objects.create(user=leader, name="Private", query="")
    csm_client = logged_in_client(csm)
    assert csm_client.post(reverse("saved-view-delete", args=[shared.pk])).status_code == 403
    assert csm_client.post(reverse("saved-view-delete", args=[private.pk])).status_code == 404
    assert csm_client.get(reverse("saved-view-open", args=[private.pk])).status_code == 404
    assert logged_in_client(outsider).post(reverse("saved-view-delete", args=[mine.pk])).status_code == 404
    assert csm_client.post(reverse("saved-view-delete", args=[mine.pk])).status_code == 302
    assert set(SavedView.objects.values_list("name", flat=True)) == {"Shared", "Private"}
